"""The Fabric Gateway client and the Fabric ledger adapter against the real local network.

Runs when the stack's ledger is Fabric (``CUREX_LEDGER=fabric``); the network is started
through infra/ like ``curex up --ledger fabric``. Transfer ids are unique per test, so
the tests share the long-lived network.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from infra.settings import InfraSettings
from infra.testing import ensure_stack
from ledger_gateway.chaincode import WrongSigner
from ledger_gateway.fabric.blocks import BlockReader, parse_block
from ledger_gateway.fabric.errors import CommitFailed, ContractRejected
from ledger_gateway.fabric.gateway_client import GatewayClient
from ledger_gateway.fabric.ledger import CHAINCODE, TX_EVENT, FabricLedger
from ledger_gateway.port import Committed, Ledger, Rejected
from schemas import (
    Actor,
    AuditRiskTx,
    CreateTransferTx,
    LedgerCommand,
    PurposeOfUse,
    Role,
    TransferState,
    TxResult,
)
from tests.integration.ledger_commands import create, seed_port
from tests.integration.ledger_port_suite import LedgerPortSuite
from tests.ledger_access import open_fabric_ledger
from tests.unit.contract_world import PATIENT, REQUESTING, SOURCE

pytestmark = [pytest.mark.integration, pytest.mark.ledger("fabric")]


def _id(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def fabric_settings() -> InfraSettings:
    peers = [f"fabric-peer-{org.slug}" for org in InfraSettings().fabric_orgs]
    return ensure_stack(peers, ledger="fabric")


@pytest.fixture(scope="module")
async def fabric(fabric_settings: InfraSettings) -> AsyncIterator[FabricLedger]:
    ledger = open_fabric_ledger(fabric_settings)
    await seed_port(ledger)
    yield ledger
    await ledger.close()


class TestFabricLedgerHonoursTheLedgerPort(LedgerPortSuite):
    @pytest.fixture
    def ledger(self, fabric: FabricLedger) -> Ledger:
        return fabric


def _client(ledger: FabricLedger, org: str) -> GatewayClient:
    client = ledger.client_for(org)
    assert client.identity.msp_id == org
    return client


def _create_by(org: str, source: str, transfer_id: str) -> LedgerCommand:
    return LedgerCommand(
        correlation_id=transfer_id,
        actor=Actor(user_id=f"doctor@{org}", org=org, role=Role.HEALTH_PROFESSIONAL),
        tx=CreateTransferTx(
            transfer_id=transfer_id,
            source_org=source,
            patient_pseudonym=PATIENT,
            emergency=True,
            purpose=PurposeOfUse.ETREAT,
        ),
    )


async def test_a_commit_reports_the_block_qscc_finds_the_transaction_in(
    fabric: FabricLedger,
) -> None:
    [outcome] = await fabric.submit([create(_id("t-qscc"))])
    assert isinstance(outcome, Committed)
    assert not outcome.replayed
    reader = BlockReader(_client(fabric, SOURCE))
    assert await reader.block_number_of(outcome.tx_id) == outcome.block_number
    assert await fabric.height() > outcome.block_number
    view = await fabric.block(outcome.block_number)
    assert view is not None
    assert outcome.tx_id in view.tx_ids


async def test_evaluate_reads_the_world_state(fabric: FabricLedger) -> None:
    transfer_id = _id("t-read")
    await fabric.submit([create(transfer_id)])
    raw = await _client(fabric, REQUESTING).evaluate(CHAINCODE, "transfer", [transfer_id])
    transfer = await fabric.transfer(transfer_id)
    assert transfer is not None
    assert transfer.model_dump_json().encode() == raw
    assert transfer.state is TransferState.INITIALISED
    assert await fabric.transfer(_id("t-none")) is None


async def test_an_actor_of_another_member_signed_by_es_sermas_is_refused(
    fabric: FabricLedger,
) -> None:
    transfer_id = _id("t-forged")
    command = _create_by(REQUESTING, SOURCE, transfer_id)  # an SE-KI doctor
    with pytest.raises(ContractRejected) as raised:
        await _client(fabric, SOURCE).endorse(CHAINCODE, "submit", [command.model_dump_json()])
    assert raised.value.contract_code == "WRONG_SIGNER"
    assert isinstance(raised.value.contract_error(), WrongSigner)
    assert await fabric.transfer(transfer_id) is None


async def test_one_orgs_endorsement_alone_is_invalidated_and_changes_nothing(
    fabric: FabricLedger,
) -> None:
    transfer_id = _id("t-one-org")
    command = _create_by(SOURCE, REQUESTING, transfer_id)
    client = _client(fabric, SOURCE)
    height = await fabric.height()
    with pytest.raises(CommitFailed) as raised:
        await client.submit_and_wait(
            CHAINCODE, "submit", [command.model_dump_json()], endorsing_organizations=[SOURCE]
        )
    assert raised.value.validation_code == "ENDORSEMENT_POLICY_FAILURE"
    assert await fabric.transfer(transfer_id) is None
    assert raised.value.tx_id not in {c.tx_id for c in await fabric.committed_after(height - 1)}
    block = parse_block(await BlockReader(client).block(await fabric.height() - 1))
    codes = {t.tx.tx_id: t.validation_code for t in block.transactions if t.tx is not None}
    assert codes.get(raised.value.tx_id) == "ENDORSEMENT_POLICY_FAILURE"
    # The same command, endorsed as the policy requires, commits.
    [outcome] = await fabric.submit([command])
    assert isinstance(outcome, Committed)


async def test_concurrent_submits_all_commit_and_stream_with_their_events(
    fabric: FabricLedger,
) -> None:
    height = await fabric.height()
    commands = [create(_id(f"t-many-{i}")) for i in range(40)]
    started = time.perf_counter()
    outcomes = await fabric.submit(commands)
    elapsed = time.perf_counter() - started
    committed = [o for o in outcomes if isinstance(o, Committed)]
    assert len(committed) == len(commands), [o for o in outcomes if isinstance(o, Rejected)]
    assert elapsed < 30
    streamed = {c.tx_id: c for c in await fabric.committed_after(height - 1, limit=100_000)}
    for outcome in committed:
        tx = streamed[outcome.tx_id]
        assert tx.block_number == outcome.block_number
        assert tx.command.event_id == outcome.command.event_id
        assert tx.result == outcome.result
    # Each carries the chaincode event with the result, as the block reader parses it.
    events: dict[str, TxResult] = {}
    reader = BlockReader(_client(fabric, REQUESTING))
    async for raw in reader.blocks(height, -1):
        for entry in parse_block(raw).transactions:
            if entry.tx is not None and entry.tx.event is not None:
                assert entry.tx.event.name == TX_EVENT
                events[entry.tx.tx_id] = TxResult.model_validate_json(entry.tx.event.payload)
    assert {o.tx_id for o in committed} <= set(events)


async def test_committed_after_pages_in_ledger_order(fabric: FabricLedger) -> None:
    height = await fabric.height()
    await fabric.submit([create(_id(f"t-page-{i}")) for i in range(6)])
    everything = await fabric.committed_after(height - 1, limit=100_000)
    paged = []
    position = (height - 1, -1)
    while page := await fabric.committed_after(*position, limit=2):
        paged += page
        position = (page[-1].block_number, page[-1].position)
    assert [c.tx_id for c in paged] == [c.tx_id for c in everything]
    keys = [(c.block_number, c.position) for c in everything]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


async def test_the_chain_verifies(fabric: FabricLedger) -> None:
    # The running workflow keeps adding blocks while the chain is read.
    before = await fabric.height()
    report = await fabric.verify()
    assert report.ok, report
    assert before <= report.blocks_checked <= await fabric.height()


async def test_a_second_client_sees_the_same_commits(fabric_settings: InfraSettings) -> None:
    ledger = open_fabric_ledger(fabric_settings)
    try:
        transfer_id = _id("t-second")
        [outcome] = await ledger.submit([create(transfer_id)])
        assert isinstance(outcome, Committed)
        history = await ledger.history(transfer_id)
        assert [(h.tx_id, h.block_number) for h in history] == [
            (outcome.tx_id, outcome.block_number)
        ]
    finally:
        await ledger.close()


async def test_sequential_commands_of_one_transfer_each_see_the_last(fabric: FabricLedger) -> None:
    transfer_id = _id("t-chain")
    commands = [
        create(transfer_id),
        LedgerCommand(
            correlation_id=transfer_id,
            actor=Actor(user_id="curex-processors", org=REQUESTING, role=Role.SYSTEM),
            tx=AuditRiskTx(transfer_id=transfer_id),
        ),
    ]
    outcomes = await asyncio.wait_for(fabric.submit(commands), timeout=60)
    assert all(isinstance(o, Committed) for o in outcomes), outcomes
    transfer = await fabric.transfer(transfer_id)
    assert transfer is not None
    assert transfer.state is TransferState.RISK_ACCEPTED


async def test_conflicting_commands_are_endorsed_again_and_judged_on_the_new_state(
    fabric: FabricLedger,
) -> None:
    transfer_id = _id("t-race")
    await fabric.submit([create(transfer_id)])
    height = await fabric.height()
    # Four audits of one transfer under different correlation ids run concurrently: they
    # read and write the same key, so all but one fail validation with an MVCC conflict.
    audits = [
        LedgerCommand(
            correlation_id=f"{transfer_id}-{i}",
            actor=Actor(user_id="curex-processors", org=REQUESTING, role=Role.SYSTEM),
            tx=AuditRiskTx(transfer_id=transfer_id),
        )
        for i in range(4)
    ]
    outcomes = await fabric.submit(audits)
    assert sum(isinstance(o, Committed) for o in outcomes) == 1
    rejected = [o for o in outcomes if isinstance(o, Rejected)]
    assert [r.error.code for r in rejected] == ["ILLEGAL_TRANSITION"] * 3
    reader = BlockReader(_client(fabric, SOURCE))
    codes = [
        entry.validation_code
        async for raw in reader.blocks(height, -1)
        for entry in parse_block(raw).transactions
    ]
    assert "MVCC_READ_CONFLICT" in codes
