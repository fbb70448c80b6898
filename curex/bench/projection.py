"""Wait for the read-model projector to catch up with the ledger's blocks.

The projector records, in the same database transaction as its rows, the next offset of
each partition it has applied: compared with the topic's end offsets, that says exactly
how far behind it is (the group's Kafka commits follow a batch later, and mean nothing
for a database the projector is still filling from the start).
"""

import asyncio
import time

import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition

from curex.bench.errors import BenchError
from schemas.topics import LEDGER_BLOCKS
from service_runtime.kafka_access import KafkaAccess

_POLL_S = 0.1


async def wait_projected(access: KafkaAccess, database_url: str, within: float) -> float:
    """Return once the projector has applied every block published until now; seconds taken."""
    started = time.monotonic()
    partitions = [TopicPartition(LEDGER_BLOCKS.name, p) for p in range(LEDGER_BLOCKS.partitions)]
    consumer = AIOKafkaConsumer(**access.client_options(), group_id=None)
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as db:
        while True:
            rows = await (
                await db.execute(
                    "SELECT partition, next_offset FROM projector_positions WHERE topic = %s",
                    (LEDGER_BLOCKS.name,),
                )
            ).fetchall()
            done: dict[int, int] = {partition: offset for partition, offset in rows}
            behind = {
                tp.partition: end - done.get(tp.partition, 0)
                for tp, end in ends.items()
                if done.get(tp.partition, 0) < end
            }
            if not behind:
                return time.monotonic() - started
            if time.monotonic() - started > within:
                raise BenchError(
                    f"the read model did not catch up within {within:g}s; "
                    f"blocks still to project by partition: {behind}"
                )
            await asyncio.sleep(_POLL_S)  # the interval of a deadline-bounded poll
