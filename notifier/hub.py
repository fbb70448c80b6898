"""Live notifications: ledger-confirmed changes pushed to the parties' open WebSockets.

Only committed transactions are announced, and each subscriber hears only of transfers
they are a party to (the party rules of ``schemas``), in their own language.
"""

import asyncio
from dataclasses import dataclass, field

import structlog
from fastapi import WebSocket
from pydantic import ValidationError

from notifier.frames import Frame, update_frame
from read_model.documents import history_entry
from schemas import LEDGER_REPORT, Actor, Language, TransactionCommitted, may_see
from schemas.topics import LEDGER_BLOCKS
from service_runtime.follower import TopicFollower
from service_runtime.kafka_access import KafkaAccess

log = structlog.get_logger()


@dataclass(eq=False)
class Subscriber:
    actor: Actor
    socket: WebSocket
    language: Language
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, frame: Frame) -> None:
        async with self.lock:  # frames from the live feed and a replay never interleave
            await self.socket.send_json(frame)


class NotificationHub:
    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()

    def add(self, subscriber: Subscriber) -> None:
        self._subscribers.add(subscriber)

    def remove(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    async def announce(self, report: TransactionCommitted) -> None:
        transfer = report.result.transfer
        if transfer is None:
            return
        entry = history_entry(report)
        for subscriber in list(self._subscribers):
            if not may_see(subscriber.actor, transfer):
                continue
            try:
                await subscriber.send(
                    update_frame(entry, transfer.transfer_id, subscriber.language)
                )
            except Exception:  # noqa: BLE001 - a gone client must not stop the others
                self.remove(subscriber)


async def follow_blocks(hub: NotificationHub, access: KafkaAccess) -> None:
    """Announce every transaction committed from now on (missed ones come by resume)."""
    async with TopicFollower(access, LEDGER_BLOCKS, poll_timeout_ms=500) as follower:
        async for records in follower.batches(max_records=1000):
            for record in records:
                try:
                    report = LEDGER_REPORT.validate_json(record.value or b"")
                except ValidationError:
                    continue  # the processors dead-letter what cannot be read
                if isinstance(report, TransactionCommitted):
                    await hub.announce(report)
