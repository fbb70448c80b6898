"""Probing the broker and creating the project's topics through the Kafka admin API."""

import asyncio
from collections.abc import Iterable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from infra.errors import ServiceFailed
from schemas.topics import TopicSpec

_TOPIC_ALREADY_EXISTS = 36
_PROBE_TIMEOUT_MS = 5_000


def _admin(bootstrap: str) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=_PROBE_TIMEOUT_MS)


async def _port_open(bootstrap: str) -> None:
    host, port = bootstrap.rsplit(":", 1)
    _reader, writer = await asyncio.open_connection(host, int(port))
    writer.close()
    await writer.wait_closed()


async def probe_kafka(bootstrap: str) -> None:
    """Returns when the broker answers a metadata request; raises otherwise."""
    # A plain connect first: aiokafka logs an error for every refused bootstrap attempt.
    await _port_open(bootstrap)
    admin = _admin(bootstrap)
    try:
        await admin.start()
        await admin.describe_cluster()
    finally:
        await admin.close()


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


async def ensure_topics(bootstrap: str, topics: Iterable[TopicSpec]) -> None:
    """Creates each topic that does not exist yet, with its partitions and cleanup policy."""
    admin = _admin(bootstrap)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [_new_topic(spec) for spec in topics if spec.name not in existing]
        if not missing:
            return
        response = await admin.create_topics(missing)
    except KafkaError as exc:
        raise ServiceFailed(f"creating Kafka topics failed: {exc!r}") from exc
    finally:
        await admin.close()
    errors = _creation_errors(response)
    if errors:
        raise ServiceFailed("creating Kafka topics failed: " + "; ".join(errors))
