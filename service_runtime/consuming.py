"""The at-least-once consume loop every committing Kafka consumer of the project runs.

Poll a batch, let the caller handle it completely (everything it produced acknowledged
by the broker), then commit the batch's offsets. The commit runs while the next batch is
polled; commits stay in order. A crash anywhere repeats work but never loses it.
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


async def consume_and_commit(
    consumer: AIOKafkaConsumer,
    handle: Callable[[Polled], Awaitable[None]],
    max_batch: int,
) -> None:
    committing: asyncio.Task[None] | None = None
    group = group_of(consumer)
    lag = LagReporter(consumer)
    try:
        while True:
            polled = await consumer.getmany(timeout_ms=500, max_records=max_batch)
            await lag.report()
            if not any(polled.values()):
                continue
            started = time.perf_counter()
            await handle(polled)
            elapsed = time.perf_counter() - started
            for tp, batch in polled.items():
                CONSUMED.labels(group, tp.topic).inc(len(batch))
                HANDLING.labels(group, tp.topic).observe(elapsed)
            offsets = {tp: batch[-1].offset + 1 for tp, batch in polled.items() if batch}
            if committing is not None:
                await committing
            committing = asyncio.create_task(_commit(consumer, offsets))
    finally:
        # That commit covers a batch that was handled completely: let it land.
        if committing is not None:
            with contextlib.suppress(Exception):
                await committing


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
    )
