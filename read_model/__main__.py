"""Run the read-model projector: ``python -m read_model``.

A plain consumer loop with manual commits: a batch's offsets are committed only after
its documents are written, so a crash repeats work (absorbed by ``fold``) but loses none.
"""

import asyncio
import contextlib
import gc

import structlog
from prometheus_client import Counter
from pydantic import ValidationError
from pymongo import AsyncMongoClient

from read_model.documents import StoredDocument
from read_model.projector import ReadModelProjector
from read_model.settings import ReadModelSettings
from schemas import LEDGER_REPORT, LedgerReport
from schemas.topics import LEDGER_BLOCKS
from service_runtime.consuming import Polled, committing_consumer, consume_and_commit
from service_runtime.logs import configure_logging
from service_runtime.service_http import http_server, service_app

log = structlog.get_logger()
PROJECTED = Counter("curex_read_model_reports_total", "Block reports projected")


async def run(settings: ReadModelSettings) -> None:
    mongo: AsyncMongoClient[StoredDocument] = AsyncMongoClient(settings.docdb_url, tz_aware=True)
    projector = ReadModelProjector(mongo, settings.docdb_database)
    consumer = committing_consumer(
        settings.kafka_bootstrap,
        [LEDGER_BLOCKS.name],
        settings.read_model_group_id,
        settings.read_model_instance_id,
        settings.read_model_max_batch,
    )

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

    await consumer.start()
    server = http_server(
        service_app("CUREX read-model projector", lambda: bool(consumer.assignment())),
        settings.read_model_port,
    )
    # Start-up objects live as long as the process: keep them out of every collection.
    gc.freeze()
    try:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(consume_and_commit(consumer, project, settings.read_model_max_batch))
            tasks.create_task(server.serve())
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
        await mongo.close()


def main() -> None:
    settings = ReadModelSettings()
    configure_logging("read-model")
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
