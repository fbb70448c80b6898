"""The local Kafka that `curex up` runs: topics as declared, records flow, status reports it."""

import os
import socket
import sys
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from typer.testing import CliRunner

from curex.cli import app
from infra.errors import PortInUse
from infra.kafka.principals import BENCH, BENCH_TOPICS
from infra.kafka.security import broker_admin_access, kafka_access
from infra.progress import SilentProgress
from infra.services import ServiceSpec
from infra.settings import InfraSettings
from infra.stack import start_services
from infra.supervision import Supervisor
from infra.testing import ensure_stack
from schemas.topics import RISK_SCORES, concrete_topics

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def kafka() -> InfraSettings:
    return ensure_stack(["kafka"])


async def test_every_topic_exists_with_its_partition_count(kafka: InfraSettings) -> None:
    topics = concrete_topics(kafka.network)
    admin = AIOKafkaAdminClient(**broker_admin_access(kafka).client_options())
    await admin.start()
    try:
        described = await admin.describe_topics([topic.name for topic in topics])
    finally:
        await admin.close()

    partitions = {topic["topic"]: len(topic["partitions"]) for topic in described}
    assert partitions == {topic.name: topic.partitions for topic in topics}


async def test_risk_scores_topic_is_compacted(kafka: InfraSettings) -> None:
    admin = AIOKafkaAdminClient(**broker_admin_access(kafka).client_options())
    await admin.start()
    try:
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, RISK_SCORES.for_org("ES-SERMAS").name)]
        )
    finally:
        await admin.close()

    [(_error, _message, _kind, _name, entries)] = response.resources
    configs = {entry[0]: entry[1] for entry in entries}
    assert configs["cleanup.policy"] == "compact"


async def test_a_record_produced_is_consumed(kafka: InfraSettings) -> None:
    # The benches' principal: the one allowed scratch topics of its own.
    topic = f"{BENCH_TOPICS}test-infra-{uuid.uuid4().hex}"
    access = kafka_access(kafka, BENCH)
    admin = AIOKafkaAdminClient(**access.client_options())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(**access.client_options(), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"hello", key=b"transfer-1")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        **access.client_options(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    received: list[tuple[bytes | None, bytes | None]] = []
    try:
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=1000)
            received.extend((r.key, r.value) for rs in batches.values() for r in rs)
    finally:
        await consumer.stop()

    assert received == [(b"transfer-1", b"hello")]


def test_status_names_kafka_as_running(kafka: InfraSettings) -> None:
    result = CliRunner().invoke(app, ["status"], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    kafka_rows = [line for line in result.output.splitlines() if " kafka " in line]
    assert len(kafka_rows) == 1, result.output
    assert "RUNNING" in kafka_rows[0]
    assert "healthy" in kafka_rows[0]


def test_a_taken_port_is_refused_naming_port_and_holder(kafka: InfraSettings) -> None:
    async def never_healthy() -> None:
        raise AssertionError("must not be probed")

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        spec = ServiceSpec(
            name="port-probe",
            command=lambda: [sys.executable, "-c", "pass"],
            address=f"127.0.0.1:{port}",
            health=never_healthy,
            ports=(port,),
        )

        with pytest.raises(PortInUse, match=rf"port 127\.0\.0\.1:{port} .*pid {os.getpid()}"):
            start_services(kafka, [spec], SilentProgress())

    assert "port-probe" not in Supervisor(kafka).states()
