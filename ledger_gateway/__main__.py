"""Run the ledger gateway: ``python -m ledger_gateway``."""

import asyncio
import contextlib
import gc
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from ledger_gateway.blockchain_api import blockchain_router
from ledger_gateway.checkpoint import PublishCheckpoint
from ledger_gateway.embedded.recent import RecentCommits
from ledger_gateway.ledgers import open_ledger
from ledger_gateway.service import BlockPublisher, CommandIntake
from ledger_gateway.settings import GatewaySettings
from schemas.topics import LEDGER_COMMANDS
from service_runtime.consuming import committing_consumer
from service_runtime.event_loop import run_service
from service_runtime.gc_pauses import full_collections_on_schedule
from service_runtime.kafka_producer import durable_producer
from service_runtime.logs import configure_logging
from service_runtime.service_http import http_server, service_app
from service_runtime.settings import load_settings
from service_runtime.tokens import TokenValidator


async def serve(settings: GatewaySettings) -> None:
    log = structlog.get_logger()
    settings.ledger_dir.mkdir(parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        api = blockchain_router(
            await open_ledger(settings, stack),
            TokenValidator(settings.ledger_issuer),
            settings.gateway_org,
        )
        loops, ready = await _writer_loops(settings, stack)
        server = http_server(
            service_app("CUREX ledger gateway and Blockchain API", ready, api),
            settings.ledger_gateway_port,
        )
        # Start-up objects live as long as the process: keep them out of every collection.
        gc.freeze()
        log.info("ledger gateway started", org=settings.gateway_org, ledger=settings.ledger)
        async with asyncio.TaskGroup() as tasks:
            for loop in (
                *loops,
                server.serve(),
                full_collections_on_schedule(settings.gc_full_every_s),
            ):
                tasks.create_task(loop)


async def _writer_loops(
    settings: GatewaySettings, stack: contextlib.AsyncExitStack
) -> tuple[list[Coroutine[Any, Any, None]], Callable[[], bool]]:
    """Command intake from this organisation's topic, and publishing what it signed."""
    recent = RecentCommits()
    writer = await open_ledger(settings, stack, signing=True, recent=recent)
    # Its own connection for the block stream.
    reader = await open_ledger(settings, stack, recent=recent)
    producer = durable_producer(settings.kafka)
    consumer = committing_consumer(
        settings.kafka,
        [LEDGER_COMMANDS.for_org(settings.gateway_org).name],
        settings.group_id,
        settings.instance_id,
        settings.gateway_max_batch,
    )
    await producer.start()
    stack.push_async_callback(producer.stop)
    await consumer.start()
    stack.push_async_callback(consumer.stop)
    committed = asyncio.Event()
    intake = CommandIntake(writer, consumer, producer, committed, settings.gateway_max_batch)
    publisher = BlockPublisher(
        reader,
        producer,
        PublishCheckpoint(settings.checkpoint_path, settings.legacy_checkpoint_path),
        committed,
        publishes_for=settings.gateway_org,
        # Transactions from before commands were signed: the network's first member's.
        publishes_unsigned=settings.gateway_org == settings.network.members[0],
    )
    return [intake.run(), publisher.run()], lambda: bool(consumer.assignment())


def main() -> None:
    settings = load_settings(GatewaySettings)
    configure_logging("ledger-gateway")
    sys.setswitchinterval(settings.gateway_switch_interval_s)
    run_service(serve(settings))


if __name__ == "__main__":
    main()
