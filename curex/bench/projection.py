"""Wait for the read-model projector to catch up with the ledger's blocks.

Asked of Kafka, not of the read model: polling the document DB would slow the very
projector it waits for (FerretDB scans the table for each lookup).
"""

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from curex.bench.errors import BenchError
from schemas.topics import LEDGER_BLOCKS

# The projector's consumer group (processors/projector_service.py).
READ_MODEL_GROUP = "curex-read-model"
_POLL_S = 0.1


def _committed(offsets: dict[TopicPartition, Any], partition: TopicPartition) -> int:
    found = offsets.get(partition)
    return max(found.offset, 0) if found is not None else 0  # -1: nothing committed yet


async def wait_projected(bootstrap: str, within: float) -> float:
    """Return once the projector has committed every block published until now; seconds taken."""
    started = time.monotonic()
    partitions = [TopicPartition(LEDGER_BLOCKS.name, p) for p in range(LEDGER_BLOCKS.partitions)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        await admin.start()
        try:
            ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
            while True:
                committed = await admin.list_consumer_group_offsets(
                    READ_MODEL_GROUP, partitions=partitions
                )
                done = {tp: max(committed[tp].offset, 0) if tp in committed else 0 for tp in ends}
                behind = {
                    tp.partition: end - done[tp] for tp, end in ends.items() if done[tp] < end
                }
                if not behind:
                    return time.monotonic() - started
                if time.monotonic() - started > within:
                    raise BenchError(
                        f"the read model did not catch up within {within:g}s; "
                        f"blocks still to project by partition: {behind}"
                    )
                await asyncio.sleep(_POLL_S)  # the interval of a deadline-bounded poll
        finally:
            await admin.close()
    finally:
        await consumer.stop()
