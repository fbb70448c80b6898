"""The command line's clients on the bus, each as the principal whose work it does: the
Applications Server's (requests), each organisation's feeds (risk scores, safeguard
results) and operators (policies), and the read-only observer (block watching)."""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from infra.kafka.principals import (
    APPLICATIONS_SERVER,
    OBSERVER,
    feed_principal,
    operator_principal,
    safeguards_feed_principal,
)
from infra.kafka.security import kafka_access
from infra.settings import InfraSettings
from producers.publisher import CommandPublisher
from schemas.topics import risk_orgs
from service_runtime.kafka_access import KafkaAccess
from service_runtime.kafka_producer import durable_producer


@dataclass(frozen=True, slots=True)
class Bus:
    publisher: CommandPublisher
    requests: AIOKafkaProducer
    observer: KafkaAccess


def observer_access(settings: InfraSettings) -> KafkaAccess:
    return kafka_access(settings, OBSERVER)


def api_access(settings: InfraSettings) -> KafkaAccess:
    return kafka_access(settings, APPLICATIONS_SERVER)


@contextlib.asynccontextmanager
async def open_bus(settings: InfraSettings) -> AsyncIterator[Bus]:
    """Started producers for every principal the command line stands in for."""
    network = settings.network
    async with contextlib.AsyncExitStack() as stack:

        async def started(access: KafkaAccess) -> AIOKafkaProducer:
            producer = durable_producer(access)
            await producer.start()
            stack.push_async_callback(producer.stop)
            return producer

        requests = await started(api_access(settings))
        feeds = {
            org: await started(kafka_access(settings, feed_principal(org)))
            for org in risk_orgs(network)
        }
        safeguard_feeds = {
            org: await started(kafka_access(settings, safeguards_feed_principal(org)))
            for org in risk_orgs(network)
        }
        operators = {
            org: await started(kafka_access(settings, operator_principal(org)))
            for org in network.members
        }
        yield Bus(
            CommandPublisher(
                requests,
                feeds=feeds,
                operators=operators,
                safeguard_feeds=safeguard_feeds,
                network=network,
            ),
            requests,
            observer_access(settings),
        )
