"""Run the read-model projector: ``python -m processors.projector_service``.

A plain consumer loop with manual commits: a batch's offsets are committed only after
its documents are written, so a crash repeats work (absorbed by ``fold``) but loses none.
"""

import asyncio
import contextlib
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer
from prometheus_client import Counter, start_http_server
from pydantic import ValidationError
from pymongo import AsyncMongoClient

from infra.logs import configure_logging
from processors.read_model import ReadModelProjector
from processors.settings import ProcessorSettings
from producers.consuming import Polled, consume_and_commit
from schemas import LEDGER_REPORT, LedgerReport
from schemas.topics import LEDGER_BLOCKS

log = structlog.get_logger()
PROJECTED = Counter("curex_read_model_reports_total", "Block reports projected")


async def run(settings: ProcessorSettings) -> None:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.docdb_url, tz_aware=True)
    projector = ReadModelProjector(mongo, settings.docdb_database)
    consumer = AIOKafkaConsumer(
        LEDGER_BLOCKS.name,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id="curex-read-model",
        group_instance_id="curex-read-model-1",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=10_000,
    )
    await consumer.start()
    # Metrics (and, on any path, a liveness answer) for the supervisor's health check.
    start_http_server(settings.read_model_port, addr="127.0.0.1")

    async def project(polled: Polled) -> None:
        reports: list[LedgerReport] = []
        for records in polled.values():
            for record in records:
                try:
                    reports.append(LEDGER_REPORT.validate_json(record.value or b""))
                except ValidationError:
                    # The processors dead-letter malformed block records; skip here.
                    log.warning("unreadable block record", offset=record.offset)
        if reports:
            written = await projector.project(reports)
            PROJECTED.inc(len(reports))
            log.info("read model projected", reports=len(reports), documents=written)

    try:
        await consume_and_commit(consumer, project, max_batch=2000)
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
        await mongo.close()


def main() -> None:
    settings = ProcessorSettings()
    configure_logging("read-model")
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
