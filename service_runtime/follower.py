"""Follow every partition of a topic from its current end, without a consumer group.

For readers that care only about what happens from now on (live notifications, clients
waiting for a command's effect): nothing is committed, and a restart starts at the end
again. Positions are resolved on entry, so a record published after ``__aenter__``
returns is never missed.
"""

import contextlib
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self, TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from schemas.topics import TopicSpec
from service_runtime.errors import TopicMissing
from service_runtime.kafka_access import KafkaAccess

Record: TypeAlias = ConsumerRecord[bytes, bytes]


class TopicFollower:
    def __init__(self, access: KafkaAccess, topic: TopicSpec, poll_timeout_ms: int = 200) -> None:
        self._topic = topic
        self._poll_timeout_ms = poll_timeout_ms
        self._consumer = AIOKafkaConsumer(
            **access.client_options(), enable_auto_commit=False, group_id=None
        )

    async def __aenter__(self) -> Self:
        try:
            await self._start_at_end()
        except BaseException:
            # Cancelled or refused half-way: a started consumer is never left behind.
            await self._consumer.stop()
            raise
        return self

    async def _start_at_end(self) -> None:
        await self._consumer.start()
        if self._topic.name not in await self._consumer.topics():
            raise TopicMissing(f"topic {self._topic.name} does not exist: run `curex up`")
        # infra/ creates the topic with exactly the partitions its spec names.
        assigned = [TopicPartition(self._topic.name, p) for p in range(self._topic.partitions)]
        self._consumer.assign(assigned)
        await self._consumer.seek_to_end(*assigned)
        for partition in assigned:  # resolve positions now, before anything is published
            await self._consumer.position(partition)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with contextlib.suppress(Exception):
            await self._consumer.stop()

    async def batches(self, max_records: int = 5000) -> AsyncIterator[list[Record]]:
        """Each non-empty poll's records, in partition order, for ever."""
        while True:
            polled = await self._consumer.getmany(
                timeout_ms=self._poll_timeout_ms, max_records=max_records
            )
            records = [record for batch in polled.values() for record in batch]
            if records:
                yield records
