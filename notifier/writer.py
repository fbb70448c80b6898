"""Writing the inboxes: committed transfer changes from ``curex.ledger.blocks``.

Every instance joins one consumer group, so each change is written once; each batch is
written in one transaction with the Kafka positions it reached, and a (re)assigned
partition resumes from the positions the database holds.
"""

import asyncio
from collections.abc import Callable
from datetime import timedelta

import psycopg
import structlog
from psycopg_pool import PoolTimeout
from pydantic import ValidationError

from notifier.inbox import InboxStore, Written
from notifier.metrics import INBOX_ROWS
from notifier.settings import NotifierSettings
from schemas import LEDGER_REPORT, REVIEW_ACTIONS, TransactionCommitted
from schemas.topics import LEDGER_BLOCKS
from service_runtime.consuming import Polled, committing_consumer, consume_and_commit
from service_runtime.positions import SeekToStoredPositions

log = structlog.get_logger()


async def write_inboxes(
    settings: NotifierSettings, store: InboxStore, on_written: Callable[[Written], None]
) -> None:
    consumer = committing_consumer(
        settings.kafka,
        [],
        settings.notifier_group_id,
        settings.notifier_instance_id,
        settings.notifier_max_batch,
        gather_ms=settings.notifier_gather_ms,
    )
    # A notifier added to a running installation starts its inboxes from now: changes
    # committed before it existed were never notifications anyone could have missed.
    consumer.subscribe(
        [LEDGER_BLOCKS.name],
        listener=SeekToStoredPositions(consumer, store.positions, from_end=True),
    )

    async def write(polled: Polled) -> None:
        reports: list[TransactionCommitted] = []
        for records in polled.values():
            for record in records:
                try:
                    report = LEDGER_REPORT.validate_json(record.value or b"")
                except ValidationError:
                    continue  # the processors dead-letter what cannot be read
                if isinstance(report, TransactionCommitted) and not _review_step(report):
                    reports.append(report)
        positions = {tp: batch[-1].offset + 1 for tp, batch in polled.items() if batch}
        delay = 0.1
        while True:
            try:
                written = await store.write(reports, positions)
            except (psycopg.OperationalError, PoolTimeout) as error:
                log.warning("applications database unavailable; retrying", error=str(error))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            else:
                INBOX_ROWS.inc(written.rows)
                on_written(written)
                return

    await consumer.start()
    try:
        await consume_and_commit(consumer, write, settings.notifier_max_batch)
    finally:
        await consumer.stop()


def _review_step(report: TransactionCommitted) -> bool:
    """A review's verdict or overdue flag: the transfer's state did not change, so nobody
    is told of a change (the patient was told of the emergency access itself)."""
    transfer = report.result.transfer
    return transfer is not None and transfer.last_transition.action in REVIEW_ACTIONS


async def forget_old_rows(settings: NotifierSettings, store: InboxStore) -> None:
    """Retention: rows older than the retention period are deleted, now and then."""
    age = timedelta(days=settings.notifier_retention_days)
    while True:
        try:
            deleted = await store.forget_older_than(age)
            if deleted:
                log.info("inbox rows past retention deleted", rows=deleted)
        except (psycopg.OperationalError, PoolTimeout) as error:
            log.warning("retention skipped: database unavailable", error=str(error))
        await asyncio.sleep(settings.notifier_retention_interval_s)
