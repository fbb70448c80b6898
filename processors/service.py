"""The processors as one asyncio program: two consumer loops, the expiry timer, health.

``intake`` (requests, consent decisions, risk scores) and ``reactions`` (ledger blocks)
are separate consumer groups, so a slow reaction never holds up intake. Both use static
membership: a process restarted after kill -9 takes its partitions back at once.
"""

import asyncio
import contextlib
import gc

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from processors.app import Reactions, Submitter, expire_overdue, intake_handlers
from processors.consuming import BatchConsumer, Handler
from processors.deadlines import CONSENT_DEADLINES, ConsentDeadlines, restore_deadlines
from processors.records import RecordsSystem
from processors.settings import ProcessorSettings
from service_runtime.consuming import committing_consumer
from service_runtime.gc_pauses import full_collections_on_schedule
from service_runtime.kafka_producer import durable_producer
from service_runtime.service_http import http_server, service_app
from service_runtime.topics import ensure_topics

log = structlog.get_logger()


async def serve(settings: ProcessorSettings, records: RecordsSystem) -> None:
    await ensure_topics(settings.kafka, [CONSENT_DEADLINES])
    deadlines = ConsentDeadlines()
    await restore_deadlines(settings.kafka, deadlines)
    async with contextlib.AsyncExitStack() as stack:
        producer = durable_producer(settings.kafka)
        await producer.start()
        stack.push_async_callback(producer.stop)
        loops: list[BatchConsumer] = []
        submit = Submitter(settings.network)
        for name, handlers in (
            ("intake", intake_handlers(submit)),
            ("reactions", Reactions(records, deadlines, submit).handlers()),
        ):
            consumer = await _start_consumer(settings, name, handlers)
            stack.push_async_callback(consumer.stop)
            loops.append(
                BatchConsumer(name, consumer, producer, handlers, settings.processors_max_batch)
            )
        server = http_server(
            service_app("CUREX processors", lambda: all(loop.assigned() for loop in loops)),
            settings.processors_health_port,
        )
        # Start-up objects live as long as the process: keep them out of every collection.
        gc.freeze()
        log.info("processors started", groups=[loop.name for loop in loops])
        async with asyncio.TaskGroup() as tasks:
            for loop in loops:
                tasks.create_task(loop.run())
            tasks.create_task(_expire_periodically(settings, deadlines, producer, submit))
            tasks.create_task(full_collections_on_schedule(settings.gc_full_every_s))
            tasks.create_task(server.serve())


async def _start_consumer(
    settings: ProcessorSettings, name: str, handlers: dict[str, Handler]
) -> AIOKafkaConsumer:
    consumer = committing_consumer(
        settings.kafka,
        list(handlers),
        f"{settings.processors_group_prefix}-{name}",
        settings.processors_instance_id,
        settings.processors_max_batch,
    )
    await consumer.start()
    return consumer


async def _expire_periodically(
    settings: ProcessorSettings,
    deadlines: ConsentDeadlines,
    producer: AIOKafkaProducer,
    submit: Submitter,
) -> None:
    while True:
        await asyncio.sleep(settings.expiry_check_interval_s)
        await expire_overdue(deadlines, producer, submit)
