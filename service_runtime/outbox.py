"""What one consumed batch produces: sent at once, acknowledged before the batch commits.

Also the one way a service dead-letters a record it cannot use: the original bytes and
where they came from go to ``curex.deadletter``, through the same outbox, so a dead letter
is durable before the offset that carried the bad record is committed.
"""

import asyncio
from collections.abc import Awaitable

import structlog
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError
from pydantic import BaseModel

from schemas import dead_letter_for
from schemas.topics import DEADLETTER
from service_runtime.errors import OutputFailed
from service_runtime.kafka_producer import send
from service_runtime.metrics import DEAD_LETTERS, PRODUCED, dead_letter_reason

log = structlog.get_logger()


class Outbox:
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
        PRODUCED.labels(topic).inc()
        self._deliveries.append(delivery)

    async def dead_letter(self, record: ConsumerRecord[bytes, bytes], error: str) -> None:
        letter = dead_letter_for(record.topic, record.partition, record.offset, record.value, error)
        log.warning(
            "dead-lettered", topic=record.topic, partition=record.partition, offset=record.offset
        )
        DEAD_LETTERS.labels(record.topic, dead_letter_reason(error)).inc()
        await self.send(DEADLETTER.name, letter, record.key)

    async def delivered(self) -> None:
        """Returns once the broker acknowledged every record sent; raises if one failed."""
        deliveries, self._deliveries = self._deliveries, []
        await asyncio.gather(*deliveries)
