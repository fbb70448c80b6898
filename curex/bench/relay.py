"""One hop of the pipeline's baseline; ``curex.bench.relay_process`` runs it as a process.

The baseline does the pipeline's work without the pipeline's logic. Each transition of an
emergency transfer is two hops, each in its own process like the services it stands for:

- ``processors``: reads the requests topic and the blocks topic; for a request, or for a
  block whose step is before the last, it sends a command (step + 1) to the commands topic;
- ``gateway``: reads the commands topic and sends a block of the same step to the blocks
  topic.

Both parse each input's JSON and send outputs of the pipeline's own sizes, with the
services' consume loop (outputs acknowledged before offsets are committed) and producer.
The step travels in a header. The process prints ``ready`` once it has its partitions.
"""

import asyncio
from dataclasses import dataclass
from typing import Literal

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from service_runtime.consuming import Polled, committing_consumer, consume_and_commit
from service_runtime.kafka_access import KafkaAccess
from service_runtime.kafka_producer import durable_producer

STEP = "step"
ACCESS_ENV = "CUREX_BENCH_RELAY_ACCESS"
Role = Literal["processors", "gateway"]
_MAX_BATCH = 500


@dataclass(frozen=True, slots=True)
class RelayPlan:
    role: Role
    requests: str
    commands: str
    blocks: str
    last_step: int
    command_size: int
    block_size: int

    def inputs(self) -> list[str]:
        return [self.requests, self.blocks] if self.role == "processors" else [self.commands]


def step_of(record: ConsumerRecord[bytes, bytes]) -> int:
    return next((int(value) for name, value in record.headers if name == STEP), 0)


def padded(size: int, step: int) -> bytes:
    """A JSON document of ``size`` bytes (the pipeline's message of that kind)."""
    document = {"step": step, "pad": ""}
    missing = max(0, size - len(orjson.dumps(document)))
    return orjson.dumps({"step": step, "pad": "x" * missing})


class Relay:
    def __init__(self, plan: RelayPlan, producer: AIOKafkaProducer) -> None:
        self._plan = plan
        self._producer = producer

    async def handle(self, polled: Polled) -> None:
        plan = self._plan
        deliveries = []
        for records in polled.values():
            for record in records:
                orjson.loads(record.value or b"{}")
                step = step_of(record)
                if plan.role == "gateway":
                    target, size = plan.blocks, plan.block_size
                elif record.topic == plan.requests or step < plan.last_step:
                    target, size, step = plan.commands, plan.command_size, step + 1
                else:
                    continue
                deliveries.append(
                    await self._producer.send(
                        target,
                        padded(size, step),
                        key=record.key,
                        headers=[(STEP, str(step).encode())],
                    )
                )
        await asyncio.gather(*deliveries)


async def _assigned(consumer: AIOKafkaConsumer) -> None:
    """Joins the group; nothing is published before ``ready``, so no poll here returns data."""
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=100, max_records=1)


async def relay(plan: RelayPlan, access: KafkaAccess, group: str) -> None:
    producer = durable_producer(access)
    consumer = committing_consumer(access, plan.inputs(), group, None, _MAX_BATCH)
    await producer.start()
    await consumer.start()
    try:
        await _assigned(consumer)
        print("ready", flush=True)
        await consume_and_commit(consumer, Relay(plan, producer).handle, _MAX_BATCH)
    finally:
        await consumer.stop()
        await producer.stop()
