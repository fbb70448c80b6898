"""The consent (and review) deadlines the expiry timer watches, kept in a compacted Kafka topic.

In memory: transfer id → (source organisation, deadline). Each change is also written to
the changelog topic (key: the transfer id as a JSON string; value: JSON, or a tombstone
once the transfer no longer awaits consent) in the same batch as the block record that
caused it, so it is on Kafka before that record's offset is committed. A restarted
process reads the topic to its end before it handles blocks again. The record format and
topic are the ones the processors' faust table used, so deadlines tracked before the move
to plain aiokafka loops carry over.
"""

import heapq
import json
from dataclasses import dataclass
from datetime import datetime

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from processors.reactions import ConsentDeadline, DeadlineKind
from schemas.topics import LEDGER_BLOCKS, TopicSpec
from service_runtime.kafka_access import KafkaAccess

log = structlog.get_logger()
_SLACK = 1024  # stale time entries tolerated before the time index is rebuilt

CONSENT_DEADLINES = TopicSpec(
    "curex-processors-consent-deadlines-changelog",
    # Written to the partition of the block record that set the deadline.
    LEDGER_BLOCKS.partitions,
    "transfer id (a JSON string)",
    "consent deadlines the processors' expiry timer watches; a tombstone clears one",
    compacted=True,
)


@dataclass(frozen=True, slots=True)
class Pending:
    source_org: str
    at: datetime
    kind: DeadlineKind = "consent"


@dataclass(frozen=True, slots=True)
class Change:
    key: bytes
    value: bytes | None  # None: a tombstone


class ConsentDeadlines:
    """The deadlines by transfer, and by time: the timer asks every second what is due, and
    every emergency adds a review deadline days away, so it must not look at them all."""

    def __init__(self) -> None:
        self._pending: dict[str, Pending] = {}
        # (time, transfer id), soonest first; an entry whose deadline has since changed or
        # gone is skipped when it comes up.
        self._by_time: list[tuple[datetime, str]] = []
        # Taken from ``_by_time`` once due, and reported until a commit clears them.
        self._due: dict[str, Pending] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def get(self, transfer_id: str) -> Pending | None:
        return self._pending.get(transfer_id)

    def pending(self, transfer_id: str) -> Pending | None:
        return self._pending.get(transfer_id)

    def discard(self, transfer_id: str) -> None:
        """Forgets a deadline in this process only (the changelog keeps it)."""
        self._pending.pop(transfer_id, None)

    def track(self, deadline: ConsentDeadline) -> Change | None:
        """Applies a reaction's deadline; returns the changelog record, None if unchanged."""
        key = json.dumps(deadline.transfer_id).encode()
        if deadline.deadline is None:
            if self._pending.pop(deadline.transfer_id, None) is None:
                return None
            return Change(key, None)
        pending = Pending(deadline.source_org, deadline.deadline, deadline.kind)
        if self._pending.get(deadline.transfer_id) == pending:
            # Already written: durable, or in a batch that is committed only once it is.
            return None
        self._set(deadline.transfer_id, pending)
        document = {"source_org": pending.source_org, "at": pending.at.isoformat()}
        if pending.kind != "consent":  # records of consent deadlines keep their old form
            document["kind"] = pending.kind
        return Change(key, json.dumps(document).encode())

    def restore(self, key: bytes | None, value: bytes | None) -> None:
        """Replays one changelog record (faust wrote a cleared deadline as JSON null)."""
        try:
            transfer_id = json.loads(key or b"")
            document = json.loads(value) if value else None
            if document is None:
                self._pending.pop(transfer_id, None)
            else:
                at = datetime.fromisoformat(document["at"])
                kind: DeadlineKind = "review" if document.get("kind") == "review" else "consent"
                self._set(transfer_id, Pending(document["source_org"], at, kind))
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable consent deadline record skipped")

    def overdue(self, now: datetime) -> list[tuple[str, Pending]]:
        while self._by_time and self._by_time[0][0] <= now:
            at, transfer_id = heapq.heappop(self._by_time)
            pending = self._pending.get(transfer_id)
            if pending is not None and pending.at == at:
                self._due[transfer_id] = pending
        due: list[tuple[str, Pending]] = []
        for transfer_id, pending in list(self._due.items()):
            if self._pending.get(transfer_id) == pending:
                due.append((transfer_id, pending))
            else:  # cleared or moved since it fell due
                del self._due[transfer_id]
        return due

    def _set(self, transfer_id: str, pending: Pending) -> None:
        self._pending[transfer_id] = pending
        heapq.heappush(self._by_time, (pending.at, transfer_id))
        if len(self._by_time) > 2 * len(self._pending) + _SLACK:
            # Mostly entries of deadlines changed or cleared since: start again from the map.
            self._by_time = [(p.at, tid) for tid, p in self._pending.items()]
            heapq.heapify(self._by_time)


async def restore_deadlines(access: KafkaAccess, deadlines: ConsentDeadlines) -> int:
    """Reads the changelog from its start to its current end; returns the records read."""
    consumer = AIOKafkaConsumer(**access.client_options(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    read = 0
    try:
        # The processors create the topic with exactly the partitions its spec names.
        tps = [
            TopicPartition(CONSENT_DEADLINES.name, p) for p in range(CONSENT_DEADLINES.partitions)
        ]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        remaining = {tp for tp in tps if await consumer.position(tp) < end[tp]}
        while remaining:
            polled = await consumer.getmany(*remaining, timeout_ms=500, max_records=5000)
            for records in polled.values():
                for record in records:
                    deadlines.restore(record.key, record.value)
                    read += 1
            remaining = {tp for tp in remaining if await consumer.position(tp) < end[tp]}
    finally:
        await consumer.stop()
    log.info("consent deadlines restored", records=read, pending=len(deadlines))
    return read
