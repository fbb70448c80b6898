"""The bus authenticates every client and lets each principal write only what it produces
and read only what it consumes: refusals are the broker's own errors."""

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)

from infra.kafka.principals import (
    APPLICATIONS_SERVER,
    PROCESSORS,
    feed_principal,
    feedback_group,
    gateway_principal,
    safeguards_feed_principal,
)
from infra.kafka.security import kafka_access
from infra.settings import InfraSettings
from schemas.topics import (
    CONSENT_DECISIONS,
    FEEDBACK,
    LEDGER_BLOCKS,
    LEDGER_COMMANDS,
    RISK_SCORES,
    SAFEGUARDS,
    TRANSFER_REQUESTS,
)
from service_runtime.kafka_access import KafkaAccess

pytestmark = pytest.mark.integration

HOME = "ES-SERMAS"
TREATING = "SE-KI"
# Never a valid message: whatever a refusal lets through must not be processed.
PROBE = b"\x00 bus security probe"


@pytest.fixture(scope="module")
def kafka(stack: InfraSettings) -> InfraSettings:
    return stack


async def _send(access: KafkaAccess, topic: str) -> None:
    producer = AIOKafkaProducer(**access.client_options(), request_timeout_ms=10_000)
    try:
        await producer.start()
        await producer.send_and_wait(topic, PROBE)
    finally:
        await producer.stop()


@pytest.fixture
def anonymous(kafka: InfraSettings) -> KafkaAccess:
    return KafkaAccess(kafka.kafka_bootstrap)


async def _consume(consumer: AIOKafkaConsumer) -> None:
    await consumer.start()
    await consumer.getmany(timeout_ms=5_000)


@pytest.mark.parametrize(
    "topic", [TRANSFER_REQUESTS.name, LEDGER_BLOCKS.name, LEDGER_COMMANDS.for_org(HOME).name]
)
async def test_an_anonymous_client_can_neither_produce_nor_consume(
    anonymous: KafkaAccess, topic: str
) -> None:
    with pytest.raises(KafkaConnectionError):
        await _send(anonymous, topic)
    consumer = AIOKafkaConsumer(topic, **anonymous.client_options(), group_id=None)
    try:
        with pytest.raises(KafkaConnectionError):
            await consumer.start()
    finally:
        await consumer.stop()


async def test_a_wrong_password_is_refused(kafka: InfraSettings) -> None:
    forged = KafkaAccess(kafka.kafka_bootstrap, APPLICATIONS_SERVER, "not-the-password")
    with pytest.raises(KafkaConnectionError):
        await _send(forged, TRANSFER_REQUESTS.name)


@pytest.mark.parametrize(
    ("principal", "topic"),
    [
        (APPLICATIONS_SERVER, LEDGER_COMMANDS.for_org(HOME).name),
        (APPLICATIONS_SERVER, LEDGER_BLOCKS.name),
        (PROCESSORS, CONSENT_DECISIONS.name),
        (PROCESSORS, LEDGER_BLOCKS.name),
        (gateway_principal(TREATING), LEDGER_COMMANDS.for_org(HOME).name),
        (feed_principal(TREATING), RISK_SCORES.for_org(HOME).name),
        (feed_principal(HOME), SAFEGUARDS.for_org(HOME).name),
        (safeguards_feed_principal(TREATING), SAFEGUARDS.for_org(HOME).name),
        (safeguards_feed_principal(HOME), RISK_SCORES.for_org(HOME).name),
        (feed_principal(HOME), FEEDBACK.for_org(HOME).name),
    ],
)
async def test_a_principal_cannot_write_a_topic_it_does_not_produce(
    kafka: InfraSettings, principal: str, topic: str
) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await _send(kafka_access(kafka, principal), topic)


async def test_a_principal_may_write_the_topic_it_produces(kafka: InfraSettings) -> None:
    # The honest counterpart of the refusals above: the same client, its own topic. The
    # probe is not a message, so the processors dead-letter it.
    await _send(kafka_access(kafka, APPLICATIONS_SERVER), TRANSFER_REQUESTS.name)


async def test_a_gateway_cannot_read_another_organisations_commands(kafka: InfraSettings) -> None:
    access = kafka_access(kafka, gateway_principal(TREATING))
    consumer = AIOKafkaConsumer(
        LEDGER_COMMANDS.for_org(HOME).name,
        **access.client_options(),
        group_id=f"curex-ledger-gateway-{TREATING.lower()}",
    )
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await _consume(consumer)
    finally:
        await consumer.stop()


async def test_an_assessment_tool_reads_its_own_feedback_and_no_one_elses(
    kafka: InfraSettings,
) -> None:
    own = AIOKafkaConsumer(
        FEEDBACK.for_org(HOME).name,
        **kafka_access(kafka, feed_principal(HOME)).client_options(),
        group_id=feedback_group(HOME),
        auto_offset_reset="earliest",
    )
    try:
        await own.start()
        await own.getmany(timeout_ms=2000)  # authorised: no error, whatever it holds
    finally:
        await own.stop()
    other = AIOKafkaConsumer(
        FEEDBACK.for_org(HOME).name,
        **kafka_access(kafka, feed_principal(TREATING)).client_options(),
        group_id=feedback_group(TREATING),
    )
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await _consume(other)
    finally:
        await other.stop()


async def test_a_principal_cannot_join_another_services_group(kafka: InfraSettings) -> None:
    access = kafka_access(kafka, APPLICATIONS_SERVER)
    consumer = AIOKafkaConsumer(
        LEDGER_BLOCKS.name, **access.client_options(), group_id="curex-processors-reactions"
    )
    try:
        with pytest.raises(GroupAuthorizationFailedError):
            await _consume(consumer)
    finally:
        await consumer.stop()
