"""Run the ledger gateway: ``python -m ledger_gateway``."""

import asyncio
import contextlib
import gc

import structlog
import uvicorn

from infra.logs import configure_logging
from ledger_gateway.checkpoint import PublishCheckpoint
from ledger_gateway.embedded import EmbeddedLedger
from ledger_gateway.http import create_app
from ledger_gateway.service import BlockPublisher, CommandIntake, command_consumer
from ledger_gateway.settings import GatewaySettings
from producers.kafka import durable_producer


async def serve(settings: GatewaySettings) -> None:
    log = structlog.get_logger()
    settings.ledger_dir.mkdir(parents=True, exist_ok=True)
    writer = EmbeddedLedger(settings.ledger_path)
    reader = EmbeddedLedger(settings.ledger_path)  # its own connection for the block stream
    producer = durable_producer(settings.kafka_bootstrap)
    consumer = command_consumer(
        settings.kafka_bootstrap, settings.gateway_group_id, settings.gateway_instance_id
    )
    await producer.start()
    await consumer.start()
    committed = asyncio.Event()
    intake = CommandIntake(writer, consumer, producer, committed, settings.gateway_max_batch)
    publisher = BlockPublisher(
        reader, producer, PublishCheckpoint(settings.checkpoint_path), committed
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(lambda: bool(consumer.assignment())),
            host="127.0.0.1",
            port=settings.ledger_gateway_port,
            log_level="warning",
        )
    )
    # Start-up objects live as long as the process: keep them out of every collection.
    gc.freeze()
    log.info("ledger gateway started", ledger=str(settings.ledger_path), height=writer.height())
    try:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(intake.run())
            tasks.create_task(publisher.run())
            tasks.create_task(server.serve())
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
        with contextlib.suppress(Exception):
            await producer.stop()
        writer.close()
        reader.close()


def main() -> None:
    settings = GatewaySettings()
    configure_logging("ledger-gateway")
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
