"""Run the read-model projector: ``python -m read_model``.

Each batch of committed blocks is applied in one database transaction with the Kafka
positions it reached; on (re)assignment the consumer seeks to the positions the database
holds, so a crash anywhere repeats no applied batch and loses none.
"""

import asyncio
import contextlib
import gc

import psycopg
import structlog
from prometheus_client import Counter
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from pydantic import ValidationError

from read_model.operations import report_transfer_states
from read_model.projector import ReadModelProjector
from read_model.settings import ReadModelSettings
from schemas import LEDGER_REPORT, LedgerReport
from schemas.topics import LEDGER_BLOCKS
from service_runtime.consuming import Polled, committing_consumer, consume_and_commit
from service_runtime.event_loop import run_service
from service_runtime.gc_pauses import full_collections_on_schedule
from service_runtime.logs import configure_logging
from service_runtime.positions import SeekToStoredPositions
from service_runtime.service_http import http_server, service_app
from service_runtime.settings import load_settings

log = structlog.get_logger()
RETRIES = Counter(
    "curex_read_model_batch_retries_total",
    "Batches tried again because the Applications Database was unavailable",
)


async def run(settings: ReadModelSettings) -> None:
    pool = AsyncConnectionPool(
        settings.database_url,
        min_size=1,
        max_size=3,
        open=False,
        # Each batch opens its own transaction; nothing else needs one.
        kwargs={"autocommit": True},
        check=AsyncConnectionPool.check_connection,
        # Short, so a database that went away is noticed (and retried) within seconds.
        timeout=5,
    )
    await pool.open(wait=True, timeout=60)
    projector = ReadModelProjector(pool)
    consumer = committing_consumer(
        settings.kafka,
        [],
        settings.read_model_group_id,
        settings.read_model_instance_id,
        settings.read_model_max_batch,
        gather_ms=settings.read_model_gather_ms,
    )
    consumer.subscribe(
        [LEDGER_BLOCKS.name], listener=SeekToStoredPositions(consumer, projector.positions)
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
        positions = {tp: batch[-1].offset + 1 for tp, batch in polled.items() if batch}
        delay = 0.1
        while True:
            try:
                await projector.project(reports, positions)
                break
            except (psycopg.OperationalError, PoolTimeout) as error:
                # The database is down or restarting: wait for it, the batch is not lost.
                log.warning("applications database unavailable; retrying", error=str(error))
                RETRIES.inc()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        # Debug: at low rates a line per batch is one per report (metrics count them).
        log.debug("read model projected", reports=len(reports))

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
            tasks.create_task(report_transfer_states(pool, settings.read_model_counts_every_s))
            tasks.create_task(full_collections_on_schedule(settings.gc_full_every_s))
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
        await pool.close()


def main() -> None:
    settings = load_settings(ReadModelSettings)
    configure_logging("read-model")
    run_service(run(settings))


if __name__ == "__main__":
    main()
