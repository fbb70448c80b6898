"""The at-least-once consume loop every committing Kafka consumer of the project runs.

Poll a batch, let the caller handle it completely (everything it produced acknowledged
by the broker), then mark its offsets for commit. Marked offsets are committed at most
once per ``COMMIT_INTERVAL_S`` and no later than that after they were marked (the poll
waits no longer); the commit runs while the next batch is polled, and commits stay in
order. A crash anywhere repeats work but never loses it.
"""

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from service_runtime.kafka_access import KafkaAccess
from service_runtime.metrics import CONSUMED, HANDLING, LagReporter, group_of

log = structlog.get_logger()

Polled = Mapping[TopicPartition, list[ConsumerRecord[bytes, bytes]]]


# Offsets are committed at most this often: a commit per small batch cost the broker and
# every consumer more CPU than the batch itself. A crash redelivers at most this much more.
COMMIT_INTERVAL_S = 0.2
_IDLE_POLL_MS = 500
# A gathering fetch returns early only with this much: in practice, when its time is up.
_GATHER_BYTES = 4 * 1024 * 1024


async def consume_and_commit(
    consumer: AIOKafkaConsumer,
    handle: Callable[[Polled], Awaitable[None]],
    max_batch: int,
    *,
    commit_interval_s: float = COMMIT_INTERVAL_S,
) -> None:
    offsets = _HandledOffsets(consumer, commit_interval_s)
    group = group_of(consumer)
    lag = LagReporter(consumer)
    try:
        while True:
            polled = await consumer.getmany(
                timeout_ms=offsets.poll_timeout_ms(), max_records=max_batch
            )
            await lag.report()
            if any(polled.values()):
                started = time.perf_counter()
                await handle(polled)
                elapsed = time.perf_counter() - started
                for tp, batch in polled.items():
                    CONSUMED.labels(group, tp.topic).inc(len(batch))
                    HANDLING.labels(group, tp.topic).observe(elapsed)
                offsets.handled({tp: batch[-1].offset + 1 for tp, batch in polled.items() if batch})
            await offsets.commit_if_due()
    finally:
        # Everything in ``offsets`` was handled completely: let its commit land.
        with contextlib.suppress(Exception):
            await offsets.flush()


class _HandledOffsets:
    """Offsets of completely handled batches, committed in order, at most once per interval."""

    def __init__(self, consumer: AIOKafkaConsumer, interval_s: float) -> None:
        self._consumer = consumer
        self._interval_s = interval_s
        self._pending: dict[TopicPartition, int] = {}
        self._last_commit = time.monotonic()
        self._committing: asyncio.Task[None] | None = None

    def handled(self, offsets: dict[TopicPartition, int]) -> None:
        self._pending.update(offsets)

    def poll_timeout_ms(self) -> int:
        if not self._pending:
            return _IDLE_POLL_MS
        due_in = self._last_commit + self._interval_s - time.monotonic()
        return max(0, min(_IDLE_POLL_MS, round(due_in * 1000)))

    async def commit_if_due(self) -> None:
        if self._pending and time.monotonic() - self._last_commit >= self._interval_s:
            await self._start_commit()

    async def flush(self) -> None:
        if self._pending:
            await self._start_commit()
        if self._committing is not None:
            await self._committing

    async def _start_commit(self) -> None:
        # Commits land in order: the previous one first.
        if self._committing is not None:
            await self._committing
        # Partitions moved away in a rebalance are their new owner's to commit; committing
        # them here would fail the whole commit.
        assigned = self._consumer.assignment()
        offsets = {tp: offset for tp, offset in self._pending.items() if tp in assigned}
        self._pending = {}
        self._last_commit = time.monotonic()
        if offsets:
            self._committing = asyncio.create_task(_commit(self._consumer, offsets))


async def _commit(consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
    try:
        await consumer.commit(offsets)
    except (CommitFailedError, IllegalStateError) as error:
        # Partitions moved in a rebalance: their new owner (maybe this process again)
        # re-reads these inputs from the last commit; event ids make the repeat harmless.
        log.warning("offset commit failed; inputs will be redelivered", error=str(error))


def committing_consumer(
    access: KafkaAccess,
    topics: list[str],
    group_id: str,
    instance_id: str | None,
    max_batch: int,
    *,
    gather_ms: int = 0,
) -> AIOKafkaConsumer:
    """A group member for ``consume_and_commit``: manual commits, from the earliest offset.
    With an ``instance_id`` it is a static member; without one it leaves the group when it
    stops, so its partitions move at once (for services whose instances come and go)."""
    # A static member that rejoins keeps its old assignment without a rebalance, even when
    # it now subscribes to more topics: what it subscribes to is part of its identity.
    subscription = hashlib.sha256("\n".join(sorted(topics)).encode()).hexdigest()[:8]
    return AIOKafkaConsumer(
        *topics,
        **access.client_options(),
        group_id=group_id,
        # Static membership: a restarted process resumes its partitions without waiting
        # for the killed member's session to expire.
        group_instance_id=f"{instance_id}-{subscription}"
        if topics and instance_id
        else instance_id,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=max_batch,
        **(
            {"fetch_max_wait_ms": gather_ms, "fetch_min_bytes": _GATHER_BYTES}
            if gather_ms > 0
            else {}
        ),
    )
