"""kill -9 the processors and the ledger gateway mid-run: every transfer still finishes once."""

import asyncio
import os
import random
import signal
import time
from collections.abc import Callable
from uuid import NAMESPACE_URL, uuid5

import pytest

from curex.block_watch import BlockWatcher, reached
from infra.settings import InfraSettings
from infra.stack import stack_status
from producers.publisher import CommandPublisher
from schemas import (
    CloseTransfer,
    CreateTransfer,
    GrantConsent,
    MarkReceived,
    MarkTransferred,
    TransferCommand,
    TransferState,
)
from tests.conftest import SessionWorld
from tests.ledger_access import stack_ledger

pytestmark = [pytest.mark.integration, pytest.mark.crash]
S = TransferState
TRANSFERS = 200
KILLS_EACH = 3


def next_step(
    world: SessionWorld, state: TransferState | None, tid: str, emergency: bool
) -> TransferCommand | None:
    """What the users of a transfer do next, as the tests play them."""
    steps: dict[TransferState, Callable[[], TransferCommand]] = {
        S.RISK_ACCEPTED: lambda: GrantConsent(
            correlation_id=tid, transfer_id=tid, actor=world.patient()
        ),
        S.DATA_AVAILABLE: lambda: MarkTransferred(
            correlation_id=tid, transfer_id=tid, actor=world.doctor(world.source)
        ),
        S.DATA_TRANSFERRED: lambda: MarkReceived(
            correlation_id=tid, transfer_id=tid, actor=world.doctor(world.requesting)
        ),
        S.DATA_RECEIVED: lambda: CloseTransfer(
            correlation_id=tid, transfer_id=tid, actor=world.doctor(world.requesting)
        ),
    }
    if emergency:
        steps.pop(S.RISK_ACCEPTED)  # the platform bypasses consent; the patient is not asked
    if state not in steps:
        return None
    command = steps[state]()
    # One event id per step, so a step re-sent after a crash is applied once.
    return command.model_copy(update={"event_id": uuid5(NAMESPACE_URL, f"{tid}:{state}")})


def kill_9(stack: InfraSettings, service: str) -> int:
    status = {s.name: s for s in stack_status(stack)}[service]
    assert status.pid is not None, f"{service} is not running"
    os.kill(status.pid, signal.SIGKILL)
    return status.pid


async def wait_restarted(stack: InfraSettings, service: str, old_pid: int, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        status = {s.name: s for s in stack_status(stack)}[service]
        if status.pid not in (None, old_pid) and status.health == "healthy":
            return
        await asyncio.sleep(0.2)  # polling the supervisor, not waiting for an event
    raise TimeoutError(f"{service} did not come back within {within} s")


def victims(stack: InfraSettings) -> tuple[str, ...]:
    """The project's services (both organisations' gateways: each signs and publishes its
    own), and on Fabric a peer and a chaincode server as well."""
    ours = ("processors", "ledger-gateway", "ledger-gateway-se-ki")
    if stack.ledger == "fabric":
        return (*ours, "fabric-peer-se-ki", "fabric-chaincode-es-sermas")
    return ours


async def chaos(stack: InfraSettings, rng: random.Random) -> int:
    kills = 0
    for _ in range(KILLS_EACH):
        for service in victims(stack):
            await asyncio.sleep(rng.uniform(0.2, 2.0))  # a random moment, not a wait for events
            old = kill_9(stack, service)
            kills += 1
            await wait_restarted(stack, service, old, within=90)
    return kills


async def drive(
    world: SessionWorld,
    publisher: CommandPublisher,
    watcher: BlockWatcher,
    creates: list[CreateTransfer],
    within: float,
) -> None:
    ids = [c.transfer_id for c in creates]
    emergency = {c.transfer_id: c.emergency for c in creates}
    sent: set[tuple[str, TransferState]] = set()
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        states = {tid: watcher.state(tid) for tid in ids}
        if all(state is S.CLOSED for state in states.values()):
            return
        for tid, state in states.items():
            command = next_step(world, state, tid, emergency[tid])
            if command is not None and state is not None and (tid, state) not in sent:
                sent.add((tid, state))
                await publisher.publish(command)
        await watcher.next_change(within=0.5)
    not_closed = {tid: s for tid, s in ((t, watcher.state(t)) for t in ids) if s is not S.CLOSED}
    raise AssertionError(
        f"{len(not_closed)} transfers did not close: {list(not_closed.items())[:5]}"
    )


async def test_transfers_in_flight_survive_kill_9_of_processors_and_gateway(
    stack: InfraSettings, publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    rng = random.Random(os.environ.get("CUREX_CRASH_SEED", "2026"))
    creates = [world.create(emergency=i % 2 == 0) for i in range(TRANSFERS)]
    ids = [c.transfer_id for c in creates]
    chaos_task = asyncio.create_task(chaos(stack, rng))
    for create in creates:
        await publisher.publish(create)
    started = time.monotonic()
    await drive(world, publisher, watcher, creates, within=420)
    print(
        f"\n{TRANSFERS} transfers closed in {time.monotonic() - started:.1f} s "
        f"with {len(victims(stack)) * KILLS_EACH} kill -9s"
    )
    assert await chaos_task == len(victims(stack)) * KILLS_EACH

    async with stack_ledger(stack) as ledger:
        for create in creates:
            transitions = [h.transition for h in await ledger.history(create.transfer_id)]
            moves = [(t.from_state, t.to_state) for t in transitions]
            assert len(moves) == len(set(moves)), f"duplicate in {create.transfer_id}: {moves}"
            middle = S.EMERGENCY_BYPASS if create.emergency else S.PATIENT_ACCEPTED
            assert [t.to_state for t in transitions] == [
                S.INITIALISED,
                S.RISK_ACCEPTED,
                middle,
                S.DATA_AVAILABLE,
                S.DATA_TRANSFERRED,
                S.DATA_RECEIVED,
                S.CLOSED,
            ]
        assert (await ledger.verify()).ok
    await watcher.wait_until(ids, reached(S.CLOSED), within=1)
