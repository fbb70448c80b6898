"""The processors' consumer loop: each input handled with retries and dead letters, and
committed only after everything it produced is on Kafka.

Each polled batch is handled record by record (``service_runtime.message_handling``
decides retry or dead letter), the producer's acknowledgements for every output of the
batch are awaited, and only then are the batch's offsets committed. A crash anywhere
repeats work, which event ids make harmless, but never skips an input.
"""

import collections
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import TypeAlias

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from prometheus_client import Counter

from service_runtime.consuming import consume_and_commit
from service_runtime.message_handling import handle_message
from service_runtime.outbox import Outbox

log = structlog.get_logger()
HANDLED = Counter("curex_processors_messages_total", "Input messages handled", ["topic", "outcome"])

Record: TypeAlias = ConsumerRecord[bytes, bytes]
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
        outcomes: collections.Counter[str] = collections.Counter()
        for records in polled.values():
            for record in records:
                outcomes[await self._handle_one(record, outbox)] += 1
        await outbox.delivered()
        structlog.contextvars.clear_contextvars()
        # Debug, like a line per message: at a few hundred messages a second a batch holds a
        # few, and these lines (written by each service, read again by the supervisor) cost
        # more CPU than the batches. curex_processors_messages_total counts the outcomes.
        log.debug("batch handled", consumer=self.name, **outcomes)

    async def _handle_one(self, record: Record, outbox: Outbox) -> str:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            topic=record.topic, partition=record.partition, offset=record.offset
        )
        handler = self._handlers[record.topic]
        outcome = await handle_message(
            partial(handler, record, outbox), partial(outbox.dead_letter, record)
        )
        HANDLED.labels(record.topic, outcome.value).inc()
        return outcome.value.replace("-", "_")
