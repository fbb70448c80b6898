"""Live notifications: ledger-confirmed changes pushed to the parties' open WebSockets.

Only committed transactions are announced, and each subscriber hears only of transfers
they are a party to, in their own language.
"""

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import WebSocket
from pydantic import ValidationError

from notifier.messages import Language, message_for
from producers.auth.principal import Principal
from producers.authorization import may_see
from schemas import LEDGER_REPORT, TransactionCommitted
from schemas.topics import LEDGER_BLOCKS
from schemas.views import HistoryEntry, history_entry

log = structlog.get_logger()
Frame = dict[str, Any]


def update_frame(entry: HistoryEntry, transfer_id: str, language: Language) -> Frame:
    return {
        "type": "transfer.updated",
        "transfer_id": transfer_id,
        "state": entry.to_state.value,
        "previous_state": entry.from_state.value if entry.from_state else None,
        "tx_id": entry.tx_id,
        "block_number": entry.block_number,
        "occurred_at": entry.at.isoformat(),
        "message": message_for(entry.to_state, language),
    }


@dataclass(eq=False)
class Subscriber:
    principal: Principal
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
            if not may_see(subscriber.principal.actor, transfer):
                continue
            try:
                await subscriber.send(
                    update_frame(entry, transfer.transfer_id, subscriber.language)
                )
            except Exception:  # noqa: BLE001 - a gone client must not stop the others
                self.remove(subscriber)


async def follow_blocks(hub: NotificationHub, bootstrap: str) -> None:
    """Announce every transaction committed from now on (missed ones come by resume)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(LEDGER_BLOCKS.name, p) for p in range(LEDGER_BLOCKS.partitions)
        ]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        while True:
            polled = await consumer.getmany(timeout_ms=500, max_records=1000)
            for records in polled.values():
                for record in records:
                    try:
                        report = LEDGER_REPORT.validate_json(record.value or b"")
                    except ValidationError:
                        continue  # the processors dead-letter what cannot be read
                    if isinstance(report, TransactionCommitted):
                        await hub.announce(report)
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()


def replay_frames(
    transfers: list[tuple[str, tuple[HistoryEntry, ...]]], after_tx: str | None, language: Language
) -> list[Frame]:
    """Every change after the one with ``after_tx`` (all of them when it is unknown)."""
    entries = [(tid, e) for tid, history in transfers for e in history]
    after_block = next((e.block_number for _, e in entries if e.tx_id == after_tx), -1)
    missed = sorted(
        ((tid, e) for tid, e in entries if e.block_number > after_block),
        key=lambda pair: (pair[1].block_number, pair[1].tx_id),
    )
    return [update_frame(e, tid, language) for tid, e in missed]
