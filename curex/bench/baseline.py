"""The raw Kafka baseline: one consume → JSON parse/re-serialise → produce hop.

It runs on two topics created for the run (same partition count as the transfer
requests), never on the pipeline's own, and deletes them afterwards.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from curex.bench.errors import BenchError
from schemas.topics import TRANSFER_REQUESTS
from service_runtime.kafka_access import KafkaAccess
from service_runtime.kafka_producer import durable_producer

_MAX_POLL = 2000
_LEADER_POLL_S = 0.05


@dataclass(frozen=True, slots=True)
class BaselineResult:
    messages: int
    elapsed_s: float

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.elapsed_s if self.elapsed_s > 0 else 0.0


async def _preload(producer: AIOKafkaProducer, topic: str, payload: bytes, count: int) -> None:
    acks = [await producer.send(topic, payload, key=f"{i}".encode()) for i in range(count)]
    await asyncio.gather(*acks)


async def _relay(
    consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, out: str, count: int, within: float
) -> BaselineResult:
    """Consume, transform and produce until ``count`` records are acknowledged downstream."""
    deadline = time.perf_counter() + within
    relayed = 0
    started: float | None = None
    while relayed < count:
        if time.perf_counter() > deadline:
            raise BenchError(f"baseline relayed only {relayed} of {count} within {within:g}s")
        polled = await consumer.getmany(timeout_ms=500, max_records=_MAX_POLL)
        records = [record for batch in polled.values() for record in batch]
        if not records:
            continue
        if started is None:
            started = time.perf_counter()
        acks = [
            await producer.send(out, json.dumps(json.loads(r.value or b"")).encode(), key=r.key)
            for r in records
        ]
        await asyncio.gather(*acks)
        await consumer.commit()
        relayed += len(records)
    finished = time.perf_counter()
    return BaselineResult(relayed, finished - started if started is not None else 0.0)


@dataclass(frozen=True, slots=True)
class BaselineTopics:
    source: str
    sink: str


@asynccontextmanager
async def baseline_topics(access: KafkaAccess, run_id: str) -> AsyncIterator[BaselineTopics]:
    """The run's two topics, created on entry and deleted on exit."""
    async with scratch_topics(access, run_id, ("in", "out")) as (source, sink):
        yield BaselineTopics(source, sink)


@asynccontextmanager
async def scratch_topics(
    access: KafkaAccess,
    run_id: str,
    suffixes: tuple[str, ...],
    partitions: int = TRANSFER_REQUESTS.partitions,
) -> AsyncIterator[tuple[str, ...]]:
    """Topics of the run (``curex.bench.<run>.<suffix>``), created on entry, deleted on exit.

    Entered at the start of the run: a partition answers "not leader" for a while after
    its creation, even once the metadata names a leader.
    """
    names = [f"curex.bench.{run_id}.{suffix}" for suffix in suffixes]
    admin = AIOKafkaAdminClient(**access.client_options())
    await admin.start()
    try:
        response = await admin.create_topics([NewTopic(n, partitions, 1) for n in names])
        try:
            failed = [f"{t}: error {code}" for t, code, *_ in response.topic_errors if code]
            if failed:
                raise BenchError("creating the baseline topics failed: " + "; ".join(failed))
            await _leaders_elected(admin, names, partitions)
            yield tuple(names)
        finally:
            await admin.delete_topics(names)
    finally:
        await admin.close()


async def _leaders_elected(
    admin: AIOKafkaAdminClient, names: list[str], partitions: int, within: float = 10.0
) -> None:
    """Poll until every new partition has a leader, so the first sends are not refused."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        described = await admin.describe_topics(names)
        led = [
            p
            for topic in described
            for p in topic["partitions"]
            if topic["error_code"] == 0 and p["error_code"] == 0 and p["leader"] >= 0
        ]
        if len(led) == len(names) * partitions:
            return
        await asyncio.sleep(_LEADER_POLL_S)  # the interval of a deadline-bounded poll
    raise BenchError(f"the baseline topics got no partition leaders within {within:g}s")


async def run_baseline(
    access: KafkaAccess, topics: BaselineTopics, payload: bytes, count: int, within: float
) -> BaselineResult:
    async with AsyncExitStack() as stack:
        producer = durable_producer(access)
        await producer.start()
        stack.push_async_callback(producer.stop)
        await _preload(producer, topics.source, payload, count)
        consumer = AIOKafkaConsumer(
            topics.source,
            **access.client_options(),
            group_id=f"curex-bench-{topics.source}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=_MAX_POLL,
        )
        await consumer.start()
        stack.push_async_callback(consumer.stop)
        return await _relay(consumer, producer, topics.sink, count, within)
    raise AssertionError("unreachable")  # for mypy: AsyncExitStack may swallow exceptions
