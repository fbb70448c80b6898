"""Creating the project's topics through the Kafka admin API, each as its spec lays it out."""

from collections.abc import Iterable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from schemas.topics import TopicSpec
from service_runtime.errors import TopicsNotCreated
from service_runtime.kafka_access import KafkaAccess

_TOPIC_ALREADY_EXISTS = 36
_ADMIN_TIMEOUT_MS = 5_000


def admin_client(access: KafkaAccess) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(**access.client_options(), request_timeout_ms=_ADMIN_TIMEOUT_MS)


def _new_topic(spec: TopicSpec) -> NewTopic:
    configs = {"cleanup.policy": "compact"} if spec.compacted else {}
    return NewTopic(spec.name, spec.partitions, 1, topic_configs=configs)


def _creation_errors(response: Any) -> list[str]:
    errors = []
    # The tuple is (topic, error_code[, error_message]) depending on the protocol version.
    for topic, code, *message in response.topic_errors:
        if code not in (0, _TOPIC_ALREADY_EXISTS):
            errors.append(f"{topic}: error {code} {message[0] if message else ''}".strip())
    return errors


async def ensure_topics(access: KafkaAccess, topics: Iterable[TopicSpec]) -> None:
    """Creates each topic that does not exist yet, with its partitions and cleanup policy."""
    admin = admin_client(access)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [_new_topic(spec) for spec in topics if spec.name not in existing]
        if not missing:
            return
        response = await admin.create_topics(missing)
    except KafkaError as exc:
        raise TopicsNotCreated(f"creating Kafka topics failed: {exc!r}") from exc
    finally:
        await admin.close()
    errors = _creation_errors(response)
    if errors:
        raise TopicsNotCreated("creating Kafka topics failed: " + "; ".join(errors))
