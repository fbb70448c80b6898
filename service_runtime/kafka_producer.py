"""The one long-lived Kafka producer of a process, and sending with a delivery future."""

from collections.abc import Awaitable

from aiokafka import AIOKafkaProducer
from pydantic import BaseModel

from service_runtime.kafka_access import KafkaAccess
from service_runtime.metrics import PRODUCED


def durable_producer(access: KafkaAccess) -> AIOKafkaProducer:
    """acks=all and idempotence: an acknowledged record survives and is never doubled."""
    return AIOKafkaProducer(
        **access.client_options(), acks="all", enable_idempotence=True, linger_ms=0
    )


async def send(
    producer: AIOKafkaProducer, topic: str, message: BaseModel, key: bytes | None
) -> Awaitable[object]:
    """Hand a message to the producer; the returned future resolves on the broker's ack."""
    delivery: Awaitable[object] = await producer.send(
        topic, message.model_dump_json().encode(), key=key
    )
    PRODUCED.labels(topic).inc()
    return delivery
