"""A consumer loop that commits an input only after everything it produced is on Kafka.

Each polled batch is handled record by record (retries and dead letters as
``processors.handling`` decides), the producer's acknowledgements for every output of the
batch are awaited, and only then are the batch's offsets committed. A crash anywhere
repeats work, which event ids make harmless, but never skips an input.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import TypeAlias

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import Counter
from pydantic import BaseModel

from processors.handling import OutputFailed, handle_message
from producers.consuming import consume_and_commit
from producers.kafka import send
from schemas import dead_letter_for
from schemas.topics import DEADLETTER

log = structlog.get_logger()
HANDLED = Counter("curex_processors_messages_total", "Input messages handled", ["topic", "outcome"])

Record: TypeAlias = ConsumerRecord[bytes, bytes]


class Outbox:
    """What one batch produced: sent at once, and delivered before the batch is committed."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._deliveries: list[Awaitable[object]] = []

    async def send(self, topic: str, message: BaseModel, key: bytes | None) -> None:
        try:
            self._deliveries.append(await send(self._producer, topic, message, key))
        except KafkaError as error:
            raise OutputFailed(f"{topic}: {error!r}") from error

    async def send_raw(
        self, topic: str, value: bytes | None, key: bytes, partition: int | None = None
    ) -> None:
        try:
            delivery: Awaitable[object] = await self._producer.send(
                topic, value, key=key, partition=partition
            )
        except KafkaError as error:
            raise OutputFailed(f"{topic}: {error!r}") from error
        self._deliveries.append(delivery)

    async def delivered(self) -> None:
        """Returns once the broker acknowledged every record sent; raises if one failed."""
        deliveries, self._deliveries = self._deliveries, []
        await asyncio.gather(*deliveries)


Handler = Callable[[Record, Outbox], Awaitable[None]]


class BatchConsumer:
    def __init__(
        self,
        name: str,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        handlers: Mapping[str, Handler],
        max_batch: int,
    ) -> None:
        self.name = name
        self._consumer = consumer
        self._producer = producer
        self._handlers = handlers
        self._max_batch = max_batch

    def assigned(self) -> bool:
        return bool(self._consumer.assignment())

    async def run(self) -> None:
        # Every output of a batch is acknowledged before its offsets are committed.
        await consume_and_commit(self._consumer, self.handle, self._max_batch)

    async def handle(self, polled: Mapping[TopicPartition, list[Record]]) -> None:
        """Handles a batch; returns once everything it produced is acknowledged."""
        outbox = Outbox(self._producer)
        for records in polled.values():
            for record in records:
                await self._handle_one(record, outbox)
        await outbox.delivered()

    async def _handle_one(self, record: Record, outbox: Outbox) -> None:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            topic=record.topic, partition=record.partition, offset=record.offset
        )
        handler = self._handlers[record.topic]
        outcome = await handle_message(
            partial(handler, record, outbox), partial(_dead_letter, record, outbox)
        )
        HANDLED.labels(record.topic, outcome.value).inc()
        log.info("message handled", outcome=outcome.value)


async def _dead_letter(record: Record, outbox: Outbox, error: str) -> None:
    letter = dead_letter_for(
        record.topic, record.partition, record.offset, record.key, record.value, error
    )
    log.warning(
        "dead-lettered", topic=record.topic, partition=record.partition, offset=record.offset
    )
    await outbox.send(DEADLETTER.name, letter, record.key)


def batch_consumer(
    bootstrap: str, topics: list[str], group_id: str, instance_id: str, max_batch: int
) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        # Static membership: a restarted process resumes its partitions without waiting
        # for the killed member's session to expire.
        group_instance_id=instance_id,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=max_batch,
    )
