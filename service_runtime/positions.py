"""Resuming a consumer from positions its own store keeps (written with its effects)."""

from collections.abc import Awaitable, Callable, Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

StoredPositions = Callable[[Sequence[TopicPartition]], Awaitable[dict[TopicPartition, int]]]


class SeekToStoredPositions(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, continue where the store says its effects stand; a partition the
    store never saw is read from its beginning (or, ``from_end``, from now on), whatever
    the group committed."""

    def __init__(
        self, consumer: AIOKafkaConsumer, stored: StoredPositions, *, from_end: bool = False
    ) -> None:
        self._consumer = consumer
        self._stored = stored
        self._from_end = from_end

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        pass

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        known = await self._stored(assigned)
        for tp in assigned:
            if tp in known:
                self._consumer.seek(tp, known[tp])
            elif self._from_end:
                await self._consumer.seek_to_end(tp)
            else:
                await self._consumer.seek_to_beginning(tp)
