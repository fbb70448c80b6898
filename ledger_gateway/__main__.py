"""Run the ledger gateway: ``python -m ledger_gateway``."""

import asyncio
import contextlib
import gc
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
import uvicorn

from infra.logs import configure_logging
from infra.service_http import service_app
from ledger_gateway.blockchain_api import blockchain_router
from ledger_gateway.checkpoint import PublishCheckpoint
from ledger_gateway.ledgers import open_ledger
from ledger_gateway.service import BlockPublisher, CommandIntake, command_consumer
from ledger_gateway.settings import GatewaySettings
from producers.auth.tokens import TokenValidator
from producers.kafka import durable_producer


async def serve(settings: GatewaySettings) -> None:
    log = structlog.get_logger()
    settings.ledger_dir.mkdir(parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        api = blockchain_router(
            await open_ledger(settings, stack),
            TokenValidator(settings.ledger_issuer),
            settings.gateway_org,
        )
        loops: list[Coroutine[Any, Any, None]] = []
        ready: Callable[[], bool] = lambda: True  # noqa: E731 - a read-only instance is ready
        if settings.gateway_writer:
            loops, ready = await _writer_loops(settings, stack)
        server = uvicorn.Server(
            uvicorn.Config(
                service_app("CUREX ledger gateway and Blockchain API", ready, api),
                host="127.0.0.1",
                port=settings.ledger_gateway_port,
                log_level="warning",
            )
        )
        # Start-up objects live as long as the process: keep them out of every collection.
        gc.freeze()
        log.info(
            "ledger gateway started",
            org=settings.gateway_org,
            writer=settings.gateway_writer,
            ledger=settings.ledger,
        )
        async with asyncio.TaskGroup() as tasks:
            for loop in (*loops, server.serve()):
                tasks.create_task(loop)


async def _writer_loops(
    settings: GatewaySettings, stack: contextlib.AsyncExitStack
) -> tuple[list[Coroutine[Any, Any, None]], Callable[[], bool]]:
    """Command intake and block publishing: only the instance that writes the ledger."""
    writer = await open_ledger(settings, stack)
    reader = await open_ledger(settings, stack)  # its own connection for the block stream
    producer = durable_producer(settings.kafka_bootstrap)
    consumer = command_consumer(
        settings.kafka_bootstrap, settings.gateway_group_id, settings.gateway_instance_id
    )
    await producer.start()
    stack.push_async_callback(producer.stop)
    await consumer.start()
    stack.push_async_callback(consumer.stop)
    committed = asyncio.Event()
    intake = CommandIntake(writer, consumer, producer, committed, settings.gateway_max_batch)
    publisher = BlockPublisher(
        reader, producer, PublishCheckpoint(settings.checkpoint_path), committed
    )
    return [intake.run(), publisher.run()], lambda: bool(consumer.assignment())


def main() -> None:
    settings = GatewaySettings()
    configure_logging("ledger-gateway")
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
