"""The consume loop's offset commits: only handled batches, in order, at most once per
interval and no later than an interval after a batch was handled."""

import asyncio

import pytest
from aiokafka import ConsumerRecord, TopicPartition

from service_runtime.consuming import Polled, consume_and_commit
from tests.unit.waiting import until

TOPIC = "curex.test.cadence"


def polled(partition: int, *offsets: int) -> Polled:
    tp = TopicPartition(TOPIC, partition)
    return {
        tp: [
            ConsumerRecord(TOPIC, partition, offset, 0, 0, b"k", b"", None, 1, 0, ())
            for offset in offsets
        ]
    }


class ScriptedConsumer:
    """Hands out the scripted batches one poll each, then empty polls of the asked length."""

    def __init__(self, batches: list[Polled], assigned: set[TopicPartition]) -> None:
        self.batches = batches
        self.assigned = assigned
        self.commits: list[dict[TopicPartition, int]] = []
        self.timeouts: list[int] = []

    async def getmany(self, timeout_ms: int, max_records: int) -> Polled:
        self.timeouts.append(timeout_ms)
        if self.batches:
            return self.batches.pop(0)
        await asyncio.sleep(timeout_ms / 1000)
        return {}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(dict(offsets))

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    def highwater(self, tp: TopicPartition) -> int | None:
        return None


async def handled_nothing(batch: Polled) -> None:
    return None


async def stop(task: "asyncio.Task[None]") -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


ALL = {TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)}


async def test_batches_within_one_interval_are_committed_once_with_the_latest_offsets() -> None:
    consumer = ScriptedConsumer([polled(0, 1, 2), polled(0, 3), polled(1, 7)], ALL)
    running = asyncio.create_task(
        consume_and_commit(consumer, handled_nothing, 10, commit_interval_s=3600)
    )
    await until(lambda: len(consumer.timeouts) >= 4)
    assert consumer.commits == []
    await stop(running)  # a stopping loop commits what it handled
    assert consumer.commits == [{TopicPartition(TOPIC, 0): 4, TopicPartition(TOPIC, 1): 8}]


async def test_a_handled_batch_is_committed_within_an_interval_without_further_input() -> None:
    consumer = ScriptedConsumer([polled(0, 41)], ALL)
    running = asyncio.create_task(
        consume_and_commit(consumer, handled_nothing, 10, commit_interval_s=0.05)
    )
    try:
        await until(lambda: consumer.commits)
        assert consumer.commits == [{TopicPartition(TOPIC, 0): 42}]
        # The poll after the batch waited only until the commit was due, not a full idle poll.
        assert consumer.timeouts[1] <= 50
    finally:
        await stop(running)


async def test_a_batch_whose_handling_fails_is_never_committed() -> None:
    async def fails_on_partition_1(batch: Polled) -> None:
        if TopicPartition(TOPIC, 1) in batch:
            raise ConnectionError("broker gone")

    consumer = ScriptedConsumer([polled(0, 5), polled(1, 9)], ALL)
    with pytest.raises(ConnectionError):
        await consume_and_commit(consumer, fails_on_partition_1, 10, commit_interval_s=3600)
    assert consumer.commits == [{TopicPartition(TOPIC, 0): 6}]


async def test_offsets_of_a_partition_moved_away_are_left_to_its_new_owner() -> None:
    consumer = ScriptedConsumer([polled(0, 3), polled(1, 4)], ALL)
    running = asyncio.create_task(
        consume_and_commit(consumer, handled_nothing, 10, commit_interval_s=3600)
    )
    await until(lambda: len(consumer.timeouts) >= 3)
    consumer.assigned = {TopicPartition(TOPIC, 1)}  # a rebalance took partition 0
    await stop(running)
    assert consumer.commits == [{TopicPartition(TOPIC, 1): 5}]
