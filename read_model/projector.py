"""The read-model projector: committed transactions into the Applications Database.

Each polled batch is written in one database transaction together with the Kafka
positions it reached, so the database always holds exactly what the positions say was
applied. A transfer's row is versioned by (block, ledger time): an older transaction
never overwrites a newer state, and a replayed one changes nothing; history rows are keyed
by (transfer, tx id). Runs in its own consumer group, so a slow database never holds back
the workflow.
"""

import time
from collections.abc import Mapping, Sequence

import psycopg
import structlog
from aiokafka import TopicPartition
from prometheus_client import Counter, Histogram
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from read_model.codes import pseudonym_key, tx_key
from read_model.documents import Rejection, history_entry, transfer_view
from schemas import CommandRejected, LedgerReport, TransactionCommitted

log = structlog.get_logger()
SKIPPED = Counter(
    "curex_read_model_skipped_reports_total",
    "Committed reports the database could not hold (logged, never retried)",
)
LAG = Histogram(
    "curex_read_model_lag_seconds",
    "Ledger commit to visible in the Applications Database",
    buckets=(0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60),
)

_UPSERT_TRANSFER = """
INSERT INTO transfers (
    transfer_id, state, previous_state, emergency, review_required, requesting_org,
    source_org, patient_pseudonym, legal_basis, purpose, created_at, updated_at,
    consent_deadline, last_block, last_tx, review_deadline, review_verdict, review_reason,
    review_overdue
) VALUES (
    %s, %s::transfer_state, %s::transfer_state, %s, %s, %s,
    %s, %s, %s, %s, %s, %s,
    %s, %s, %s, %s, %s, %s,
    %s
)
ON CONFLICT (transfer_id) DO UPDATE SET
    state = EXCLUDED.state,
    previous_state = EXCLUDED.previous_state,
    emergency = EXCLUDED.emergency,
    review_required = EXCLUDED.review_required,
    review_deadline = EXCLUDED.review_deadline,
    review_verdict = EXCLUDED.review_verdict,
    review_reason = EXCLUDED.review_reason,
    review_overdue = EXCLUDED.review_overdue,
    legal_basis = EXCLUDED.legal_basis,
    updated_at = EXCLUDED.updated_at,
    consent_deadline = EXCLUDED.consent_deadline,
    last_block = EXCLUDED.last_block,
    last_tx = EXCLUDED.last_tx
WHERE (EXCLUDED.last_block, EXCLUDED.updated_at) >= (transfers.last_block, transfers.updated_at)
"""
_INSERT_HISTORY = """
INSERT INTO transfer_history (
    transfer_key, tx, block_number, at, from_state, to_state, action, actor_role,
    actor_org, actor_user_id, reason, legal_basis
)
SELECT transfer_key, %s, %s, %s, %s::transfer_state, %s::transfer_state,
    %s::transfer_action, %s::actor_role, %s, %s, %s, %s
FROM transfers WHERE transfer_id = %s
ON CONFLICT (transfer_key, tx) DO NOTHING
"""
_SET_REJECTION = "UPDATE transfers SET last_rejection = %s WHERE transfer_id = %s"
_UPSERT_POLICY = """
INSERT INTO organisations (org_id, policy) VALUES (%s, %s)
ON CONFLICT (org_id) DO UPDATE SET policy = EXCLUDED.policy
"""
_UPSERT_ASSESSMENT = """
INSERT INTO organisations (org_id, last_recorded_assessment) VALUES (%s, %s)
ON CONFLICT (org_id) DO UPDATE SET last_recorded_assessment = EXCLUDED.last_recorded_assessment
"""
_SAVE_POSITION = """
INSERT INTO projector_positions (topic, partition, next_offset) VALUES (%s, %s, %s)
ON CONFLICT (topic, partition) DO UPDATE
SET next_offset = GREATEST(projector_positions.next_offset, EXCLUDED.next_offset)
"""


def _transfer_row(report: TransactionCommitted) -> tuple[object, ...]:
    view = transfer_view(report)
    return (
        view.transfer_id,
        view.state.value,
        view.previous_state.value if view.previous_state else None,
        view.emergency,
        view.review_required,
        view.requesting_org,
        view.source_org,
        pseudonym_key(view.patient_pseudonym),
        view.legal_basis,
        view.purpose.value,
        view.created_at,
        view.updated_at,
        view.consent_deadline,
        view.last_block,
        tx_key(view.last_tx_id),
        view.review_deadline,
        view.review_verdict.value if view.review_verdict else None,
        view.review_reason.value if view.review_reason else None,
        view.review_overdue,
    )


def _history_row(report: TransactionCommitted) -> tuple[object, ...]:
    entry = history_entry(report)
    return (
        tx_key(entry.tx_id),
        entry.block_number,
        entry.at,
        entry.from_state.value if entry.from_state else None,
        entry.to_state.value,
        entry.action.value,
        entry.actor.role.value,
        entry.actor.org,
        entry.actor.user_id,
        entry.reason,
        entry.legal_basis,
        report.correlation_id,
    )


def _rejection(report: CommandRejected) -> Jsonb:
    rejection = Rejection(
        code=report.code,
        reason=report.reason,
        current_state=report.current_state,
        command_event_id=report.command_event_id,
        at=report.occurred_at,
    )
    return Jsonb(rejection.model_dump(mode="json"))


class ReadModelProjector:
    """The single writer of the read model."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def positions(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        """Where each partition's next unapplied record is, as the database knows it."""
        async with self._pool.connection() as db:
            rows = await (
                await db.execute("SELECT topic, partition, next_offset FROM projector_positions")
            ).fetchall()
        known = {TopicPartition(topic, partition): offset for topic, partition, offset in rows}
        return {tp: known[tp] for tp in partitions if tp in known}

    async def project(
        self, reports: Sequence[LedgerReport], positions: Mapping[TopicPartition, int]
    ) -> None:
        """Applies ``reports`` (in ledger order per transfer) and records ``positions``, at once.

        A report the database cannot hold (``DataError``) never stops the projection: the
        batch is applied again report by report, and that report alone is skipped, logged.
        """
        try:
            async with self._pool.connection() as db, db.transaction():
                await self._apply(db, reports)
                await self._save(db, positions)
        except psycopg.DataError:
            async with self._pool.connection() as db, db.transaction():
                for report in reports:
                    try:
                        async with db.transaction():  # a savepoint per report
                            await self._apply(db, [report])
                    except psycopg.DataError as error:
                        SKIPPED.inc()
                        log.warning(
                            "report skipped: the database cannot hold it",
                            correlation_id=report.correlation_id,
                            event_id=str(report.event_id),
                            error=type(error).__name__,
                        )
                await self._save(db, positions)
        visible = time.time()
        for report in reports:
            if isinstance(report, TransactionCommitted):
                LAG.observe(max(0.0, visible - report.occurred_at.timestamp()))

    @staticmethod
    async def _save(db: AsyncConnection, positions: Mapping[TopicPartition, int]) -> None:
        async with db.cursor() as cur:
            await cur.executemany(
                _SAVE_POSITION,
                [(tp.topic, tp.partition, offset) for tp, offset in positions.items()],
            )

    async def _apply(self, db: AsyncConnection, reports: Sequence[LedgerReport]) -> None:
        transfers: list[tuple[object, ...]] = []
        history: list[tuple[object, ...]] = []
        rejections: list[tuple[object, ...]] = []
        policies: list[tuple[object, ...]] = []
        assessments: list[tuple[object, ...]] = []
        for report in reports:
            if isinstance(report, CommandRejected):
                rejections.append((_rejection(report), report.correlation_id))
                continue
            result = report.result
            if result.transfer is not None:
                transfers.append(_transfer_row(report))
                history.append(_history_row(report))
            elif result.policy is not None:
                policy = Jsonb(result.policy.model_dump(mode="json"))
                policies.append((result.policy.org_id, policy))
            elif result.assessment is not None:
                assessment = Jsonb(result.assessment.model_dump(mode="json"))
                assessments.append((result.assessment.org_id, assessment))
        # Each table's rows in ledger order; every transfer row before the history rows that
        # look it up. Pipeline mode and executemany: the statements go out back to back, in
        # one round trip, instead of a send and a read of the socket per statement.
        async with db.pipeline(), db.cursor() as cur:
            for statement, rows in (
                (_UPSERT_TRANSFER, transfers),
                (_INSERT_HISTORY, history),
                (_SET_REJECTION, rejections),
                (_UPSERT_POLICY, policies),
                (_UPSERT_ASSESSMENT, assessments),
            ):
                if rows:
                    await cur.executemany(statement, rows)
