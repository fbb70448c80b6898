"""Malformed input is dead-lettered whole and never stalls the pipeline."""

import asyncio
import hashlib
import json
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from curex.assessments import safeguards
from curex.block_watch import BlockWatcher, reached
from curex.bus import observer_access
from infra.kafka.principals import APPLICATIONS_SERVER, feed_principal, safeguards_feed_principal
from infra.kafka.security import kafka_access
from infra.settings import InfraSettings
from producers.publisher import CommandPublisher
from schemas import DeadLetter, RiskAssessmentV1, SafeguardStatus, TransferState
from schemas.topics import (
    CONSENT_DECISIONS,
    DEADLETTER,
    RISK_SCORES,
    SAFEGUARDS,
    TRANSFER_REQUESTS,
)
from service_runtime.kafka_access import KafkaAccess
from tests.conftest import SessionWorld

pytestmark = pytest.mark.integration
PER_TOPIC = 1000
FREE_TEXT_BASE = safeguards("TS-SOURCE", {"ISO27001-A.8.24": SafeguardStatus.DECLINED})


def malformed_values(i: int, world: SessionWorld) -> bytes:
    """Garbage of several kinds: bytes, broken JSON, wrong shapes, a raw patient id."""
    valid_shape = {
        "type": "create_transfer",
        "correlation_id": "t-x",
        "transfer_id": f"t-bad-{i:05d}",
        "actor": {"user_id": "doctor", "org": world.requesting, "role": "health_professional"},
        "source_org": world.source,
        "patient_pseudonym": "ES-1000001",
        "reason": "x",
    }
    kinds = [
        bytes([i % 256, 0xFF, 0x00, 0xC3]),
        b'{"type": "create_transfer", ',
        b"",
        json.dumps({"type": "no_such_command"}).encode(),
        json.dumps(valid_shape).encode(),  # raw patient id instead of a pseudonym
        json.dumps({**valid_shape, "unexpected": True}).encode(),
        json.dumps([1, 2, 3]).encode(),
        json.dumps({"org_id": "not an org", "cybersecurity_score": 500}).encode(),
        # A score of the first form: two numbers, no validity, no evidence.
        RiskAssessmentV1(
            org_id=world.source, cybersecurity_score=90, privacy_score=90, source="CAT"
        )
        .model_dump_json()
        .encode(),
        # A safeguard result whose "code" is free text.
        json.dumps(
            {
                **FREE_TEXT_BASE.model_dump(mode="json"),
                "org_id": world.source,
                "safeguards": [{"code": "we never encrypt laptops", "status": "declined"}],
            }
        ).encode(),
    ]
    return kinds[i % len(kinds)]


async def end_offsets(
    access: KafkaAccess, topic: str, partitions: int
) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(**access.client_options(), group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


async def test_malformed_messages_on_every_input_topic_are_dead_lettered_and_valid_ones_flow(
    stack: InfraSettings, publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    run = uuid.uuid4().hex
    observer = observer_access(stack)
    start = await end_offsets(observer, DEADLETTER.name, DEADLETTER.partitions)
    # Each topic's malformed messages come from the principal allowed to write it.
    writers = {
        TRANSFER_REQUESTS.name: kafka_access(stack, APPLICATIONS_SERVER),
        CONSENT_DECISIONS.name: kafka_access(stack, APPLICATIONS_SERVER),
        RISK_SCORES.for_org(world.source).name: kafka_access(stack, feed_principal(world.source)),
        SAFEGUARDS.for_org(world.source).name: kafka_access(
            stack, safeguards_feed_principal(world.source)
        ),
    }
    sent: dict[bytes, tuple[str, bytes]] = {}
    placed: dict[bytes, tuple[int, int]] = {}
    for topic, access in writers.items():
        producer = AIOKafkaProducer(
            **access.client_options(), acks="all", enable_idempotence=True, linger_ms=5
        )
        await producer.start()
        try:
            deliveries = []
            for i in range(PER_TOPIC):
                key = f"bad-{run}-{topic}-{i}".encode()
                value = malformed_values(i, world)
                sent[key] = (topic, value)
                deliveries.append(await producer.send(topic, value, key=key))
            topic_keys = list(sent)[-PER_TOPIC:]
            for key, metadata in zip(topic_keys, await asyncio.gather(*deliveries), strict=True):
                placed[key] = (metadata.partition, metadata.offset)
        finally:
            await producer.stop()

    valid = world.create(emergency=True)
    await publisher.publish_and_wait(valid)
    await watcher.wait_until([valid.transfer_id], reached(TransferState.DATA_AVAILABLE), within=90)

    letters = await collect_dead_letters(observer, start, run, len(sent), within=120)
    assert set(letters) == set(sent)
    for key, letter in letters.items():
        topic, value = sent[key]
        assert (letter.source_topic, letter.source_partition, letter.source_offset) == (
            topic,
            *placed[key],
        )
        # A digest of the input, never the input: it may hold what must not spread.
        assert (letter.original_sha256, letter.original_size) == (
            hashlib.sha256(value).hexdigest(),
            len(value),
        )
        assert letter.error


async def collect_dead_letters(
    access: KafkaAccess, start: dict[TopicPartition, int], run: str, expected: int, within: float
) -> dict[bytes, DeadLetter]:
    consumer = AIOKafkaConsumer(**access.client_options(), group_id=None)
    await consumer.start()
    letters: dict[bytes, DeadLetter] = {}
    try:
        consumer.assign(list(start))
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        deadline = time.monotonic() + within
        while len(letters) < expected and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                for record in records:
                    if record.key and record.key.startswith(f"bad-{run}".encode()):
                        letters[record.key] = DeadLetter.model_validate_json(record.value)
    finally:
        await consumer.stop()
    return letters
