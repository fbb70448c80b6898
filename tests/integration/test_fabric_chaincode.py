"""Our chaincode server behind the real peers: paging, replays, refusals, hosting, restarts.

Runs when the stack's ledger is Fabric (``CUREX_LEDGER=fabric``). Ids are unique per test,
so the tests share the long-lived network with the other Fabric tests.
"""

import hashlib
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from curex.assessments import assessment
from infra.settings import InfraSettings
from infra.stack import stack_status
from infra.testing import ensure_stack
from ledger_gateway.fabric.errors import ContractRejected
from ledger_gateway.fabric.ledger import CHAINCODE, FabricLedger
from ledger_gateway.fabric.transactions import parse_envelope
from ledger_gateway.port import Committed
from schemas import (
    Action,
    Actor,
    ApplyActionTx,
    CreateTransferTx,
    LedgerCommand,
    PurposeOfUse,
    RecordRiskScoreTx,
    Role,
    Transaction,
    TransferState,
    TxResult,
)
from tests.ledger_access import open_fabric_ledger
from tests.unit.contract_world import REQUESTING, SOURCE

pytestmark = [pytest.mark.integration, pytest.mark.ledger("fabric")]


def _id(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}"


def _command(actor: Actor, tx: Transaction) -> LedgerCommand:
    return LedgerCommand(correlation_id=_id("c"), actor=actor, tx=tx)


def _create(transfer_id: str, patient: str) -> LedgerCommand:
    return _command(
        Actor(user_id=f"doctor@{REQUESTING}", org=REQUESTING, role=Role.HEALTH_PROFESSIONAL),
        CreateTransferTx(
            transfer_id=transfer_id,
            source_org=SOURCE,
            patient_pseudonym=patient,
            emergency=False,
            purpose=PurposeOfUse.COC,
        ),
    )


def _patient() -> str:
    return hashlib.sha256(uuid.uuid4().bytes).hexdigest()


def _system(org: str) -> Actor:
    return Actor(user_id="curex-processors", org=org, role=Role.SYSTEM)


@pytest.fixture(scope="module")
def fabric_settings() -> InfraSettings:
    peers = [f"fabric-peer-{org.slug}" for org in InfraSettings().fabric_orgs]
    return ensure_stack(peers, ledger="fabric")


@pytest.fixture(scope="module")
async def fabric(fabric_settings: InfraSettings) -> AsyncIterator[FabricLedger]:
    ledger = open_fabric_ledger(fabric_settings)
    yield ledger
    await ledger.close()


async def test_an_index_query_pages_past_the_peers_batch_of_100(fabric: FabricLedger) -> None:
    patient = _patient()
    ids = sorted(_id("t-page") for _ in range(130))
    outcomes = await fabric.submit([_create(t, patient) for t in ids])
    assert all(isinstance(o, Committed) for o in outcomes), outcomes

    assert await fabric.transfer_ids("by-patient", patient) == ids


async def test_a_replay_is_endorsed_with_the_first_result_and_no_event(
    fabric: FabricLedger,
) -> None:
    command = _create(_id("t-replay"), _patient())
    [first] = await fabric.submit([command])
    assert isinstance(first, Committed)

    prepared = await fabric.client_for(REQUESTING).endorse(
        CHAINCODE, "submit", [command.model_dump_json()]
    )

    assert TxResult.model_validate_json(prepared.result) == first.result
    replay = parse_envelope(prepared.envelope)
    assert replay.response_status == 200
    assert replay.event is None


async def test_a_write_carries_the_result_as_its_event(fabric: FabricLedger) -> None:
    prepared = await fabric.client_for(REQUESTING).endorse(
        CHAINCODE, "submit", [_create(_id("t-event"), _patient()).model_dump_json()]
    )
    endorsed = parse_envelope(prepared.envelope)
    assert endorsed.event is not None
    assert endorsed.event.name == "curex.transaction"
    assert endorsed.event.payload == prepared.result
    assert TxResult.model_validate_json(prepared.result).tx_id == prepared.tx_id


async def test_an_illegal_transition_is_refused_with_the_current_state(
    fabric: FabricLedger,
) -> None:
    transfer_id = _id("t-illegal")
    [created] = await fabric.submit([_create(transfer_id, _patient())])
    assert isinstance(created, Committed)
    declare = _command(
        _system(SOURCE), ApplyActionTx(transfer_id=transfer_id, action=Action.DECLARE_AVAILABLE)
    )

    with pytest.raises(ContractRejected) as raised:
        await fabric.client_for(SOURCE).endorse(CHAINCODE, "submit", [declare.model_dump_json()])

    assert raised.value.contract_code == "ILLEGAL_TRANSITION"
    assert raised.value.current_state is TransferState.INITIALISED
    assert raised.value.unanimous


async def test_an_organisation_without_a_peer_is_signed_for_by_its_configured_host_only(
    fabric: FabricLedger,
) -> None:
    # TS-SOURCE is hosted by ES-SERMAS in the suite's network (tests/conftest.py).
    org = "TS-SOURCE"
    scores = _command(
        _system(org),
        RecordRiskScoreTx(assessment=assessment(org, 90, 90)),
    )
    es, se = fabric.client_for(SOURCE), fabric.client_for(REQUESTING)
    with pytest.raises(ContractRejected) as other_member:
        await se.endorse(CHAINCODE, "submit", [scores.model_dump_json()])
    assert other_member.value.contract_code == "WRONG_SIGNER"
    prepared, _ = await es.submit_and_wait(CHAINCODE, "submit", [scores.model_dump_json()])
    assert TxResult.model_validate_json(prepared.result).assessment is not None
    unknown = f"FR-{uuid.uuid4().hex[:10].upper()}"
    with pytest.raises(ContractRejected) as unhosted:
        await es.endorse(
            CHAINCODE, "submit", [_command(_system(unknown), scores.tx).model_dump_json()]
        )
    assert unhosted.value.contract_code == "WRONG_SIGNER"


def _kill_9(settings: InfraSettings, service: str) -> int:
    status = {s.name: s for s in stack_status(settings)}[service]
    assert status.pid is not None, f"{service} is not running"
    os.kill(status.pid, signal.SIGKILL)
    return status.pid


@pytest.mark.crash
async def test_a_killed_chaincode_server_is_dialled_again_after_its_restart(
    fabric: FabricLedger, fabric_settings: InfraSettings
) -> None:
    service = "fabric-chaincode-se-ki"
    old_pid = _kill_9(fabric_settings, service)
    started = time.monotonic()

    # FabricLedger retries while the endorsement fails; the peer dials the restarted server.
    [outcome] = await fabric.submit([_create(_id("t-after-kill"), _patient())])

    assert isinstance(outcome, Committed)
    assert time.monotonic() - started < 60
    status = {s.name: s for s in stack_status(fabric_settings)}[service]
    assert status.pid not in (None, old_pid)


@pytest.mark.crash
async def test_a_killed_peer_registers_with_the_chaincode_server_again(
    fabric: FabricLedger, fabric_settings: InfraSettings
) -> None:
    service = "fabric-peer-se-ki"
    old_pid = _kill_9(fabric_settings, service)

    # FabricLedger rides out the unreachable peer; the restarted peer dials our server again.
    [outcome] = await fabric.submit([_create(_id("t-after-peer-kill"), _patient())])

    assert isinstance(outcome, Committed)
    status = {s.name: s for s in stack_status(fabric_settings)}[service]
    assert status.pid not in (None, old_pid)
