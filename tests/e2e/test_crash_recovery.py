"""kill -9 the processors and the ledger gateways (on Fabric also a peer and a chaincode
server) while transfers are in flight: each kill is shown to have landed while transfers
were between their first and last transaction on the ledger, and every transfer still
takes exactly its scenario's path, once."""

import asyncio
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import NAMESPACE_URL, uuid5

import pytest

from curex.block_watch import BlockWatcher, reached
from infra.settings import InfraSettings
from infra.stack import stack_status
from producers.publisher import CommandPublisher
from schemas import (
    Action,
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
KILLS_EACH = 3
WAVE = 30  # new transfers per kill


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


@dataclass(frozen=True)
class Kill:
    service: str
    at: datetime


async def chaos(
    stack: InfraSettings,
    rng: random.Random,
    world: SessionWorld,
    publisher: CommandPublisher,
    watcher: BlockWatcher,
    creates: list[CreateTransfer],
) -> list[Kill]:
    """Each kill comes with a wave of new transfers, the moment a random one of them is
    first seen on the ledger: that transfer is then surely in flight, since its users' next
    step is sent only after the kill, and the others are at every stage around it."""
    plan = [service for _ in range(KILLS_EACH) for service in victims(stack)]
    kills: list[Kill] = []
    for service in plan:
        wave = [world.create(emergency=(len(creates) + i) % 2 == 0) for i in range(WAVE)]
        creates.extend(wave)
        for create in wave:
            await publisher.publish(create)
        # A fixed delay after the wave's first transfer had missed a wave that closed
        # within it once the pipeline got quicker.
        chosen = rng.choice(wave).transfer_id
        await watcher.wait_until([chosen], reached(S.INITIALISED), within=120)
        kills.append(Kill(service, datetime.now(UTC)))
        old = kill_9(stack, service)
        await wait_restarted(stack, service, old, within=90)
    return kills


async def drive(
    world: SessionWorld,
    publisher: CommandPublisher,
    watcher: BlockWatcher,
    creates: list[CreateTransfer],
    chaos_task: asyncio.Task[list[Kill]],
    within: float,
) -> None:
    """Play every transfer's users until the chaos is over and every transfer is closed."""
    sent: set[tuple[str, TransferState]] = set()
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if chaos_task.done():
            chaos_task.result()  # a failed chaos run fails the test here
        states = {c.transfer_id: watcher.state(c.transfer_id) for c in creates}
        if chaos_task.done() and all(state is S.CLOSED for state in states.values()):
            return
        for create in list(creates):
            tid = create.transfer_id
            state = states.get(tid)
            command = next_step(world, state, tid, create.emergency)
            if command is not None and state is not None and (tid, state) not in sent:
                sent.add((tid, state))
                await publisher.publish(command)
        await watcher.next_change(within=0.5)
    not_closed = [
        (c.transfer_id, watcher.state(c.transfer_id), watcher.rejections(c.transfer_id))
        for c in creates
        if watcher.state(c.transfer_id) is not S.CLOSED
    ]
    shown = [(t, s, [(r.code, r.current_state) for r in refused]) for t, s, refused in not_closed]
    raise AssertionError(f"{len(not_closed)} transfers did not close: {shown[:5]}")


def expected_path(emergency: bool) -> list[tuple[TransferState | None, Action, TransferState]]:
    """Every move of a transfer as the tests play it, in order."""
    consent = (
        (S.RISK_ACCEPTED, Action.BYPASS_CONSENT, S.EMERGENCY_BYPASS)
        if emergency
        else (S.RISK_ACCEPTED, Action.GRANT_CONSENT, S.PATIENT_ACCEPTED)
    )
    return [
        (None, Action.CREATE, S.INITIALISED),
        (S.INITIALISED, Action.ACCEPT_RISK, S.RISK_ACCEPTED),
        consent,
        (consent[2], Action.DECLARE_AVAILABLE, S.DATA_AVAILABLE),
        (S.DATA_AVAILABLE, Action.MARK_TRANSFERRED, S.DATA_TRANSFERRED),
        (S.DATA_TRANSFERRED, Action.MARK_RECEIVED, S.DATA_RECEIVED),
        (S.DATA_RECEIVED, Action.CLOSE, S.CLOSED),
    ]


async def test_transfers_in_flight_survive_kill_9_of_processors_and_gateway(
    stack: InfraSettings, publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    rng = random.Random(os.environ.get("CUREX_CRASH_SEED", "2026"))
    creates: list[CreateTransfer] = []
    started = time.monotonic()
    chaos_task = asyncio.create_task(chaos(stack, rng, world, publisher, watcher, creates))
    await drive(world, publisher, watcher, creates, chaos_task, within=540)
    kills = chaos_task.result()
    print(
        f"\n{len(creates)} transfers closed in {time.monotonic() - started:.1f} s "
        f"with {len(kills)} kill -9s"
    )
    assert len(kills) == len(victims(stack)) * KILLS_EACH

    async with stack_ledger(stack) as ledger:
        histories = {c.transfer_id: await ledger.history(c.transfer_id) for c in creates}
        for create in creates:
            history = histories[create.transfer_id]
            moves = [
                (h.transition.from_state, h.transition.action, h.transition.to_state)
                for h in history
            ]
            assert moves == expected_path(create.emergency), f"{create.transfer_id}: {moves}"
            blocks = [h.block_number for h in history]
            assert blocks == sorted(blocks), f"{create.transfer_id} out of block order: {blocks}"
            # The block stream carried each of them, repeated after a kill only as itself.
            streamed = {r.tx_id for r in watcher.committed(create.transfer_id)}
            assert streamed == {h.tx_id for h in history}, create.transfer_id
        in_flight = {
            kill: sum(
                history[0].transition.at < kill.at < history[-1].transition.at
                for history in histories.values()
            )
            for kill in kills
        }
        print(
            "transfers in flight at each kill -9:", [(k.service, n) for k, n in in_flight.items()]
        )
        missed = [kill for kill, count in in_flight.items() if count == 0]
        assert not missed, f"kills that hit no transfer in flight: {missed}"
        assert (await ledger.verify()).ok
