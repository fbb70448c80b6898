"""A connection's queue rules (pure, a fake socket): live changes wait while held and come
out in order without what a replay covered; nothing sent live is replayed; a full queue
marks the client as not keeping up. And the inboxes mirror the party rules."""

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from fastapi import WebSocket

from notifier.connections import Connection, Hub
from notifier.frames import FrameCache
from notifier.inbox import InboxEntry
from notifier.recipients import inbox_of, recipients_of
from schemas import Role, TransferState, may_see
from service_runtime.users import Principal

PSEUDONYM = "ab" * 32
OTHER_PSEUDONYM = "cd" * 32


@dataclass
class FakeSocket:
    sent: list[str] = field(default_factory=list)
    wanted: int = 0
    enough: asyncio.Event = field(default_factory=asyncio.Event)

    async def send_text(self, text: str) -> None:
        self.sent.append(text)
        if len(self.sent) >= self.wanted:
            self.enough.set()


def entry(seq: int) -> InboxEntry:
    return InboxEntry(
        seq=seq,
        recipient="org:SE-KI",
        transfer_id=f"t-{seq}",
        tx_id=f"{seq:064x}",
        block_number=seq,
        from_state=None,
        to_state=TransferState.INITIALISED,
        at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def connection(queue: int = 16) -> tuple[Connection, FakeSocket]:
    socket = FakeSocket()
    return Connection(cast(WebSocket, socket), "org:SE-KI", "en", queue, 1.0), socket


async def drained(conn: Connection, socket: FakeSocket, count: int) -> list[str]:
    socket.wanted = count
    pump = asyncio.create_task(conn.pump())
    await asyncio.wait_for(socket.enough.wait(), timeout=5)
    pump.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await pump
    return [text.split('"transfer_id":"')[1].split('"')[0] for text in socket.sent]


async def test_held_changes_come_after_the_replay_in_order_without_those_it_covered() -> None:
    conn, socket = connection()
    for seq in (3, 4, 5):  # arrive live while the client's resume is being replayed
        conn.offer(seq, FrameCache(entry(seq)))
    for seq in (1, 2, 3, 4):  # the replay read these from the inbox
        await conn.replayed(seq, FrameCache(entry(seq)))
    conn.floor = 4
    conn.release()
    assert await drained(conn, socket, 5) == ["t-1", "t-2", "t-3", "t-4", "t-5"]


async def test_a_change_sent_live_is_not_sent_again_by_a_later_resume() -> None:
    conn, socket = connection()
    conn.release()
    conn.offer(7, FrameCache(entry(7)))
    conn.hold()
    for seq in (6, 7, 8):
        await conn.replayed(seq, FrameCache(entry(seq)))
    conn.floor = 8
    conn.release()
    assert await drained(conn, socket, 3) == ["t-7", "t-6", "t-8"]


async def test_a_live_change_at_or_below_the_floor_is_dropped_as_already_replayed() -> None:
    conn, socket = connection()
    conn.floor = 10
    conn.release()
    conn.offer(9, FrameCache(entry(9)))
    conn.offer(11, FrameCache(entry(11)))
    assert await drained(conn, socket, 1) == ["t-11"]


def test_a_client_whose_queue_is_full_is_marked_as_not_keeping_up() -> None:
    conn, _ = connection(queue=2)
    conn.release()
    for seq in (1, 2):
        conn.offer(seq, FrameCache(entry(seq)))
    assert not conn.overflowed.is_set()
    conn.offer(3, FrameCache(entry(3)))
    assert conn.overflowed.is_set()


@dataclass(frozen=True)
class Parties:
    requesting_org: str
    source_org: str
    patient_pseudonym: str


class NeverSent:
    """A socket whose every send hangs, as a client's full TCP window makes it."""

    async def send_text(self, text: str) -> None:
        await asyncio.Event().wait()


async def test_the_sweep_finds_a_send_that_outlasts_its_timeout_among_idle_sockets() -> None:
    hub = Hub()
    idle = [connection()[0] for _ in range(3)]
    stuck = Connection(cast(WebSocket, NeverSent()), "org:SE-KI", "en", 16, 0.05)
    for conn in (*idle, stuck):
        hub.add(conn)
        conn.release()
    stuck.offer(1, FrameCache(entry(1)))
    pump = asyncio.create_task(stuck.pump())
    sweep = asyncio.create_task(hub.sweep(every_s=0.01))
    try:
        # pump returns once the sweep marks the connection as not keeping up
        await asyncio.wait_for(pump, timeout=5)
    finally:
        sweep.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweep
    assert stuck.overflowed.is_set()
    assert not any(conn.overflowed.is_set() for conn in idle)


@pytest.mark.parametrize(
    ("role", "org", "pseudonym"),
    [
        (Role.HEALTH_PROFESSIONAL, "SE-KI", None),
        (Role.HEALTH_PROFESSIONAL, "ES-SERMAS", None),
        (Role.HEALTH_PROFESSIONAL, "FR-APHP", None),
        (Role.PATIENT, "ES-SERMAS", PSEUDONYM),
        (Role.PATIENT, "ES-SERMAS", OTHER_PSEUDONYM),
    ],
)
def test_a_user_reads_a_changes_inbox_exactly_when_the_party_rules_let_them_see_it(
    role: Role, org: str, pseudonym: str | None
) -> None:
    transfer: Any = Parties("SE-KI", "ES-SERMAS", PSEUDONYM)
    principal = Principal("u-1", "someone", org, role, pseudonym)
    assert (inbox_of(principal) in recipients_of(transfer)) == may_see(principal.actor, transfer)
