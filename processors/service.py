"""The processors as one asyncio program: two consumer loops, the expiry timer, health.

``intake`` (requests, consent decisions, risk scores) and ``reactions`` (ledger blocks)
are separate consumer groups, so a slow reaction never holds up intake. Both use static
membership: a process restarted after kill -9 takes its partitions back at once.
"""

import asyncio
import contextlib
import gc

import structlog
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from infra.kafka_topics import ensure_topics
from infra.service_http import service_app
from processors.app import INTAKE_HANDLERS, Reactions, expire_overdue
from processors.consuming import BatchConsumer, Handler, batch_consumer
from processors.deadlines import CONSENT_DEADLINES, ConsentDeadlines, restore_deadlines
from processors.legacy_offsets import adopt_legacy_offsets
from processors.records import RecordsSystem
from processors.settings import ProcessorSettings
from producers.kafka import durable_producer

log = structlog.get_logger()


async def serve(settings: ProcessorSettings, records: RecordsSystem) -> None:
    await ensure_topics(settings.kafka_bootstrap, [CONSENT_DEADLINES])
    deadlines = ConsentDeadlines()
    await restore_deadlines(settings.kafka_bootstrap, deadlines)
    async with contextlib.AsyncExitStack() as stack:
        producer = durable_producer(settings.kafka_bootstrap)
        await producer.start()
        stack.push_async_callback(producer.stop)
        loops: list[BatchConsumer] = []
        for name, handlers in (
            ("intake", INTAKE_HANDLERS),
            ("reactions", Reactions(records, deadlines).handlers()),
        ):
            consumer = await _start_consumer(settings, name, handlers)
            stack.push_async_callback(consumer.stop)
            loops.append(
                BatchConsumer(name, consumer, producer, handlers, settings.processors_max_batch)
            )
        server = uvicorn.Server(
            uvicorn.Config(
                service_app("CUREX processors", lambda: all(loop.assigned() for loop in loops)),
                host="127.0.0.1",
                port=settings.processors_health_port,
                log_level="warning",
            )
        )
        # Start-up objects live as long as the process: keep them out of every collection.
        gc.freeze()
        log.info("processors started", groups=[loop.name for loop in loops])
        async with asyncio.TaskGroup() as tasks:
            for loop in loops:
                tasks.create_task(loop.run())
            tasks.create_task(_expire_periodically(settings, deadlines, producer))
            tasks.create_task(server.serve())


async def _start_consumer(
    settings: ProcessorSettings, name: str, handlers: dict[str, Handler]
) -> AIOKafkaConsumer:
    group_id = f"{settings.processors_group_prefix}-{name}"
    if settings.processors_legacy_group:
        await adopt_legacy_offsets(
            settings.kafka_bootstrap, group_id, settings.processors_legacy_group, set(handlers)
        )
    consumer = batch_consumer(
        settings.kafka_bootstrap,
        list(handlers),
        group_id,
        settings.processors_instance_id,
        settings.processors_max_batch,
    )
    await consumer.start()
    return consumer


async def _expire_periodically(
    settings: ProcessorSettings, deadlines: ConsentDeadlines, producer: AIOKafkaProducer
) -> None:
    while True:
        await asyncio.sleep(settings.expiry_check_interval_s)
        await expire_overdue(deadlines, producer)
