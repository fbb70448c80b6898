"""FabricLedger.submit over fake gateways: order per transfer, concurrency, replays, retries."""

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace

import grpc
import pytest
from fabric_protos.common import common_pb2

from ledger_gateway.chaincode import IllegalTransition, NotAParty
from ledger_gateway.fabric.errors import ContractRejected, LedgerUnavailable
from ledger_gateway.fabric.gateway_client import CommitStatus, PreparedTx
from ledger_gateway.fabric.ledger import FabricLedger, RetryPolicy
from ledger_gateway.port import Committed, Rejected
from schemas import AuditRiskTx, LedgerCommand, TransferState, TxResult
from tests.integration import ledger_commands
from tests.unit.contract_world import REQUESTING, SOURCE, system


def _rejection(code: str, *, unanimous: bool = True) -> ContractRejected:
    return ContractRejected(
        grpc.StatusCode.ABORTED,
        "failed to endorse transaction",
        (),
        None,
        contract_code=code,
        reason="because",
        current_state=TransferState.CLOSED,
        unanimous=unanimous,
    )


@dataclass
class World:
    """What the fake peers share: the ledger's records and a log of what happened."""

    recorded: dict[str, str] = field(default_factory=dict)  # event id -> tx id
    blocks: dict[str, int] = field(default_factory=dict)  # tx id -> block
    pending: dict[str, str] = field(default_factory=dict)  # tx id -> event id
    log: list[tuple[str, str]] = field(default_factory=list)
    refusals: dict[str, list[Exception]] = field(default_factory=dict)
    conflicts: dict[str, int] = field(default_factory=dict)
    in_flight: int = 0
    most_in_flight: int = 0
    next_tx: int = 0
    height: int = 1


class FakeGateway:
    channel_name = "curex"

    def __init__(self, msp_id: str, world: World) -> None:
        self.identity = SimpleNamespace(msp_id=msp_id)
        self.world = world
        self.signed: list[str] = []

    async def endorse(
        self, chaincode: str, function: str, args: list[str], **_: object
    ) -> PreparedTx:
        world = self.world
        command = LedgerCommand.model_validate_json(args[0])
        event_id = str(command.event_id)
        self.signed.append(event_id)
        world.log.append(("endorse", event_id))
        world.in_flight += 1
        world.most_in_flight = max(world.most_in_flight, world.in_flight)
        await asyncio.sleep(0.001)
        refusals = world.refusals.get(event_id)
        if refusals:
            world.in_flight -= 1
            raise refusals.pop(0)
        world.next_tx += 1
        tx_id = world.recorded.get(event_id, f"tx-{world.next_tx}")
        world.pending[tx_id] = event_id
        result = TxResult(tx_id=tx_id, op="create_transfer")
        return PreparedTx(
            f"tx-{world.next_tx}", common_pb2.Envelope(), result.model_dump_json().encode()
        )

    async def submit(self, prepared: PreparedTx) -> None:
        self.world.log.append(("submit", self.world.pending[prepared.tx_id]))

    async def commit_status(self, tx_id: str) -> CommitStatus:
        world = self.world
        await asyncio.sleep(0.002)
        event_id = world.pending[tx_id]
        if tx_id not in world.blocks:
            if world.conflicts.get(event_id, 0) > 0:
                world.conflicts[event_id] -= 1
                world.blocks[tx_id] = -1
            else:
                world.blocks[tx_id] = world.height
                world.height += 1
                world.recorded[event_id] = tx_id
                world.log.append(("committed", event_id))
            world.in_flight -= 1
        block = world.blocks[tx_id]
        return CommitStatus("MVCC_READ_CONFLICT" if block < 0 else "VALID", max(block, 0))

    async def evaluate(self, chaincode: str, function: str, args: list[str], **_: object) -> bytes:
        assert (chaincode, function) == ("qscc", "GetBlockByTxID")
        raw = common_pb2.Block()
        raw.header.number = self.world.blocks[args[1]]
        return raw.SerializeToString()


def _ledger(world: World, **options: object) -> tuple[FabricLedger, dict[str, FakeGateway]]:
    clients = {org: FakeGateway(org, world) for org in (SOURCE, REQUESTING)}
    quick = RetryPolicy(attempts=4, disagreement_s=0.05, first_delay_s=0.001, max_delay_s=0.002)
    retry = options.pop("retry", quick)
    options.setdefault("signer_org", REQUESTING)
    return FabricLedger(clients, retry=retry, **options), clients  # type: ignore[arg-type]


def create(name: str) -> LedgerCommand:
    return ledger_commands.create(f"transfer-{name}")


def _audit(name: str) -> LedgerCommand:
    transfer_id = f"transfer-{name}"
    return LedgerCommand(
        correlation_id=transfer_id,
        actor=system(REQUESTING),
        tx=AuditRiskTx(transfer_id=transfer_id),
    )


async def test_commands_of_one_transfer_wait_for_each_others_commit() -> None:
    world = World()
    ledger, _ = _ledger(world)
    first, second = create("t-1"), _audit("t-1")
    outcomes = await ledger.submit([first, second, create("t-2")])
    assert all(isinstance(o, Committed) and not o.replayed for o in outcomes)
    log = world.log
    assert log.index(("committed", str(first.event_id))) < log.index(
        ("endorse", str(second.event_id))
    )


async def test_different_transfers_run_concurrently_within_the_bound() -> None:
    world = World()
    ledger, _ = _ledger(world, max_in_flight=8)
    outcomes = await ledger.submit([create(f"t-{i}") for i in range(40)])
    assert all(isinstance(o, Committed) for o in outcomes)
    assert 1 < world.most_in_flight <= 8
    # Outcomes come back in input order.
    assert [o.command.correlation_id for o in outcomes] == [f"transfer-t-{i}" for i in range(40)]


async def test_every_command_is_signed_by_the_ledgers_one_identity_whoever_its_actor() -> None:
    world = World()
    ledger, clients = _ledger(world)
    by_source = LedgerCommand(correlation_id="p-1", actor=system(SOURCE), tx=_audit("x").tx)
    requesting = create("t-9")  # a health professional of SE-KI
    await ledger.submit([by_source, requesting])
    # The chaincode, not the gateway, refuses the other organisation's command.
    assert clients[REQUESTING].signed == [str(by_source.event_id), str(requesting.event_id)]
    assert clients[SOURCE].signed == []


async def test_a_recorded_command_is_a_replay_with_its_original_block() -> None:
    world = World()
    ledger, _ = _ledger(world)
    command = create("t-r")
    [original] = await ledger.submit([command])
    submits = [entry for entry in world.log if entry[0] == "submit"]
    fresh = FabricLedger(ledger._clients, signer_org=REQUESTING)  # no cached block numbers
    [again] = await fresh.submit([command])
    assert isinstance(original, Committed)
    assert isinstance(again, Committed)
    assert again.replayed
    assert (again.tx_id, again.block_number) == (original.tx_id, original.block_number)
    assert [entry for entry in world.log if entry[0] == "submit"] == submits


async def test_a_contract_refusal_is_rejected_with_its_error_class() -> None:
    world = World()
    ledger, _ = _ledger(world)
    command = create("t-no")
    world.refusals[str(command.event_id)] = [_rejection("NOT_A_PARTY")]
    [outcome] = await ledger.submit([command])
    assert isinstance(outcome, Rejected)
    assert isinstance(outcome.error, NotAParty)
    assert outcome.error.current_state is TransferState.CLOSED


async def test_a_refusal_by_a_stale_endorser_is_retried() -> None:
    world = World()
    ledger, _ = _ledger(world)
    command = create("t-stale")
    world.refusals[str(command.event_id)] = [_rejection("ILLEGAL_TRANSITION", unanimous=False)]
    [outcome] = await ledger.submit([command])
    assert isinstance(outcome, Committed)


async def test_endorsers_that_disagree_longer_than_the_quick_attempts_are_given_time() -> None:
    """A restarted peer commits what it missed within seconds, after more than a few
    quick attempts: the refusal it gave meanwhile must not become the transfer's fate."""
    world = World()
    patient = RetryPolicy(attempts=4, disagreement_s=5.0, first_delay_s=0.001, max_delay_s=0.002)
    ledger, _ = _ledger(world, retry=patient)
    command = create("t-lagging")
    world.refusals[str(command.event_id)] = [
        _rejection("ILLEGAL_TRANSITION", unanimous=False) for _ in range(12)
    ]
    [outcome] = await ledger.submit([command])
    assert isinstance(outcome, Committed)


async def test_a_persistent_disagreement_ends_as_the_refusal() -> None:
    world = World()
    ledger, _ = _ledger(world)
    command = create("t-stuck")
    world.refusals[str(command.event_id)] = [
        _rejection("ILLEGAL_TRANSITION", unanimous=False) for _ in range(10_000)
    ]
    [outcome] = await ledger.submit([command])
    assert isinstance(outcome, Rejected)
    assert isinstance(outcome.error, IllegalTransition)


async def test_an_mvcc_conflict_is_endorsed_again() -> None:
    world = World()
    ledger, _ = _ledger(world)
    command = create("t-mvcc")
    world.conflicts[str(command.event_id)] = 2
    [outcome] = await ledger.submit([command])
    assert isinstance(outcome, Committed)
    assert [e for e in world.log if e == ("endorse", str(command.event_id))] == [
        ("endorse", str(command.event_id))
    ] * 3


async def test_a_short_outage_is_ridden_out() -> None:
    world = World()
    ledger, _ = _ledger(world)
    command = create("t-blip")
    world.refusals[str(command.event_id)] = [
        LedgerUnavailable(grpc.StatusCode.UNAVAILABLE, "connection refused") for _ in range(10)
    ]
    [outcome] = await ledger.submit([command])
    assert isinstance(outcome, Committed)


async def test_an_unreachable_network_raises_once_the_window_passes() -> None:
    world = World()
    clients = {org: FakeGateway(org, world) for org in (SOURCE, REQUESTING)}
    retry = RetryPolicy(unavailable_s=0.05, first_delay_s=0.001, max_delay_s=0.01)
    ledger = FabricLedger(clients, signer_org=REQUESTING, retry=retry)  # type: ignore[arg-type]
    command = create("t-down")
    world.refusals[str(command.event_id)] = [
        LedgerUnavailable(grpc.StatusCode.UNAVAILABLE, "connection refused") for _ in range(10_000)
    ]
    with pytest.raises(LedgerUnavailable):
        await ledger.submit([command, create("t-up")])
