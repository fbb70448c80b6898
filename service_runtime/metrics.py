"""The metrics every service shares (prometheus-client): messages in and out per topic,
batch handling time, consumer lag per group and partition, dead letters by reason.

Label values are topic, group and partition names and a fixed set of reasons: never an
identifier or anything a message carried.
"""

import time

from aiokafka import AIOKafkaConsumer
from prometheus_client import Counter, Gauge, Histogram

CONSUMED = Counter(
    "curex_messages_consumed_total", "Messages consumed, by group and topic", ["group", "topic"]
)
PRODUCED = Counter("curex_messages_produced_total", "Messages handed to Kafka, by topic", ["topic"])
HANDLING = Histogram(
    "curex_batch_handling_seconds",
    "Handling one polled batch completely (outputs acknowledged), by group and topic",
    ["group", "topic"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
LAG = Gauge(
    "curex_consumer_lag",
    "Records on the broker not yet consumed, by group, topic and partition",
    ["group", "topic", "partition"],
)
DEAD_LETTERS = Counter(
    "curex_dead_letters_total",
    "Records sent to curex.deadletter, by the topic they came from and why",
    ["source_topic", "reason"],
)
_REASONS = ("invalid message", "not retriable", "gave up after retries", "unexpected failure")


def dead_letter_reason(error: str) -> str:
    """The error's kind (the retry policy's fixed prefixes), never its text."""
    return next((reason for reason in _REASONS if error.startswith(reason)), "other")


def group_of(consumer: AIOKafkaConsumer) -> str:
    # aiokafka keeps the group only privately; a consumer without one reports "none".
    return str(getattr(consumer, "_group_id", None) or "none")


class LagReporter:
    """Consumer lag from the broker's high-water marks, at most once per ``every_s``."""

    def __init__(self, consumer: AIOKafkaConsumer, every_s: float = 1.0) -> None:
        self._consumer = consumer
        self._group = group_of(consumer)
        self._every_s = every_s
        self._last = 0.0

    async def report(self) -> None:
        now = time.monotonic()
        if now - self._last < self._every_s:
            return
        self._last = now
        for tp in self._consumer.assignment():
            highwater = self._consumer.highwater(tp)
            if highwater is None:
                continue
            position = await self._consumer.position(tp)
            LAG.labels(self._group, tp.topic, str(tp.partition)).set(max(0, highwater - position))
