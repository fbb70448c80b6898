"""The consent (and review) deadlines the expiry timer watches, kept in a compacted Kafka topic.

In memory: transfer id → (source organisation, deadline). Each change is also written to
the changelog topic (key: the transfer id as a JSON string; value: JSON, or a tombstone
once the transfer no longer awaits consent) in the same batch as the block record that
caused it, so it is on Kafka before that record's offset is committed. A restarted
process reads the topic to its end before it handles blocks again. The record format and
topic are the ones the processors' faust table used, so deadlines tracked before the move
to plain aiokafka loops carry over.
"""

import json
from dataclasses import dataclass
from datetime import datetime

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from processors.reactions import ConsentDeadline, DeadlineKind
from schemas.topics import LEDGER_BLOCKS, TopicSpec
from service_runtime.kafka_access import KafkaAccess

log = structlog.get_logger()

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
    def __init__(self) -> None:
        self._pending: dict[str, Pending] = {}

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
        self._pending[deadline.transfer_id] = pending
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
                self._pending[transfer_id] = Pending(document["source_org"], at, kind)
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable consent deadline record skipped")

    def overdue(self, now: datetime) -> list[tuple[str, Pending]]:
        return [(tid, pending) for tid, pending in self._pending.items() if pending.at <= now]


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
