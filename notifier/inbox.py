"""The inboxes in the Applications Database: written once per committed change and
recipient, read in ``seq`` order by every notifier instance.

Writers hold one transaction-scoped advisory lock while they insert, so sequence numbers
commit in the order they were taken: a reader that has seen ``seq`` N has seen every row
below N that will ever exist. The transaction also records the Kafka positions it reached
and wakes every instance (``NOTIFY``, naming the writer) once it commits. It is sent as
one pipeline: the statements and the commit in one round trip.
"""

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
import structlog
from aiokafka import TopicPartition
from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from notifier.recipients import recipients_of
from read_model.codes import tx_id_of, tx_key
from schemas import TransactionCommitted, TransferState

log = structlog.get_logger()
CHANNEL = "curex_inbox"
# pg_advisory_xact_lock's key for inbox writers: "CURX" in ASCII.
_WRITERS_LOCK = 0x43555258
_COLUMNS = "seq, recipient, transfer_id, tx, block_number, from_state, to_state, at"
_VALUES = "recipient, transfer_id, tx, block_number, from_state, to_state, at"
# One statement for a batch's rows, numbered in ledger order, so seq follows that order.
_INSERT_ALL = f"""
INSERT INTO inbox ({_VALUES})
SELECT recipient, transfer_id, tx, block_number,
       from_state::transfer_state, to_state::transfer_state, at
FROM unnest(%s::text[], %s::text[], %s::bytea[], %s::bigint[], %s::text[], %s::text[],
            %s::timestamptz[]) WITH ORDINALITY AS r({_VALUES}, position)
ORDER BY position
ON CONFLICT (recipient, tx) DO NOTHING
RETURNING {_COLUMNS}
"""
_INSERT_ONE = f"""
INSERT INTO inbox ({_VALUES})
VALUES (%s, %s, %s, %s, %s::transfer_state, %s::transfer_state, %s)
ON CONFLICT (recipient, tx) DO NOTHING
RETURNING {_COLUMNS}
"""
_SAVE_POSITIONS = """
INSERT INTO inbox_positions (topic, partition, next_offset)
SELECT * FROM unnest(%s::text[], %s::int[], %s::bigint[])
ON CONFLICT (topic, partition) DO UPDATE
SET next_offset = GREATEST(inbox_positions.next_offset, EXCLUDED.next_offset)
"""


@dataclass(frozen=True, slots=True)
class InboxEntry:
    seq: int
    recipient: str
    transfer_id: str
    tx_id: str
    block_number: int
    from_state: TransferState | None
    to_state: TransferState
    at: datetime


@dataclass(frozen=True, slots=True)
class Written:
    """What one write added: ``entries`` in ``seq`` order, every one of them above
    ``after``, the highest ``seq`` any writer had committed before it."""

    after: int
    entries: list[InboxEntry]

    @property
    def rows(self) -> int:
        return len(self.entries)


def _entry(row: dict[str, Any]) -> InboxEntry:
    from_state = row["from_state"]
    return InboxEntry(
        seq=row["seq"],
        recipient=row["recipient"],
        transfer_id=row["transfer_id"],
        tx_id=tx_id_of(row["tx"]),
        block_number=row["block_number"],
        from_state=None if from_state is None else TransferState(from_state),
        to_state=TransferState(row["to_state"]),
        at=row["at"],
    )


def inbox_rows(reports: Sequence[TransactionCommitted]) -> list[tuple[object, ...]]:
    """One row per recipient of each transfer change, in ledger order (block, then as read)."""
    rows: list[tuple[object, ...]] = []
    for report in sorted(reports, key=lambda r: r.block_number):
        transfer = report.result.transfer
        if transfer is None:
            continue
        move = transfer.last_transition
        for recipient in recipients_of(transfer):
            rows.append(
                (
                    recipient,
                    transfer.transfer_id,
                    tx_key(report.tx_id),
                    report.block_number,
                    move.from_state.value if move.from_state else None,
                    move.to_state.value,
                    move.at,
                )
            )
    return rows


async def _insert_one_by_one(
    db: AsyncConnection, cursor: AsyncCursor[dict[str, Any]], rows: list[tuple[object, ...]]
) -> list[dict[str, Any]]:
    inserted: list[dict[str, Any]] = []
    for row in rows:
        try:
            async with db.transaction():  # a savepoint per row
                await cursor.execute(_INSERT_ONE, row)
                inserted.extend(await cursor.fetchall())
        except psycopg.DataError as error:
            log.warning("inbox row skipped", error=type(error).__name__)
    return inserted


class InboxStore:
    def __init__(
        self, pool: AsyncConnectionPool, writer_pool: AsyncConnectionPool | None = None
    ) -> None:
        self._pool = pool
        # Names this instance's writer in its wake-ups, which its own feed need not answer.
        self.writer = secrets.token_hex(8)
        # The writer's own connections skip the pool's check on checkout (a round trip per
        # batch): a dead one fails the write, which is retried on a fresh connection.
        self._writer_pool = writer_pool or pool

    async def positions(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        async with self._pool.connection() as db:
            rows = await (
                await db.execute("SELECT topic, partition, next_offset FROM inbox_positions")
            ).fetchall()
        known = {TopicPartition(topic, partition): offset for topic, partition, offset in rows}
        return {tp: known[tp] for tp in partitions if tp in known}

    async def write(
        self, reports: Sequence[TransactionCommitted], positions: Mapping[TopicPartition, int]
    ) -> Written:
        """Writes the inbox rows of ``reports`` and the positions reached, at once; wakes the
        readers. A row the database cannot hold is skipped and logged, never retried."""
        rows = inbox_rows(reports)
        try:
            async with self._writer_pool.connection() as db:
                return await self._insert(db, rows, positions, one_by_one=False)
        except psycopg.DataError:
            async with self._writer_pool.connection() as db:
                return await self._insert(db, rows, positions, one_by_one=True)

    async def _insert(
        self,
        db: AsyncConnection,
        rows: list[tuple[object, ...]],
        positions: Mapping[TopicPartition, int],
        one_by_one: bool,
    ) -> Written:
        inserted: list[dict[str, Any]] = []
        async with (
            db.pipeline(),
            db.cursor() as before,
            db.cursor(row_factory=dict_row) as new_rows,
        ):
            async with db.transaction():
                await db.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITERS_LOCK,))
                await before.execute("SELECT coalesce(max(seq), 0) FROM inbox")
                if one_by_one:
                    inserted = await _insert_one_by_one(db, new_rows, rows)
                elif rows:
                    await new_rows.execute(
                        _INSERT_ALL, [list(column) for column in zip(*rows, strict=True)]
                    )
                await db.execute(
                    _SAVE_POSITIONS,
                    (
                        [tp.topic for tp in positions],
                        [tp.partition for tp in positions],
                        list(positions.values()),
                    ),
                )
                if rows:
                    await db.execute("SELECT pg_notify(%s, %s)", (CHANNEL, self.writer))
            # Read once the commit is on its way: one round trip for everything.
            found = await before.fetchone()
            if rows and not one_by_one:
                inserted = await new_rows.fetchall()
        entries = sorted((_entry(row) for row in inserted), key=lambda entry: entry.seq)
        return Written(after=int(found[0]) if found else 0, entries=entries)

    async def head(self) -> int:
        """The highest ``seq`` written so far (0 for an empty inbox)."""
        async with self._pool.connection() as db:
            row = await (await db.execute("SELECT coalesce(max(seq), 0) FROM inbox")).fetchone()
        return int(row[0]) if row else 0

    async def since(self, after_seq: int, limit: int) -> list[InboxEntry]:
        """Every inbox's rows after ``after_seq``, in order: what the feed pushes."""
        return await self._entries(
            f"SELECT {_COLUMNS} FROM inbox WHERE seq > %s ORDER BY seq LIMIT %s",
            (after_seq, limit),
        )

    async def after(self, recipient: str, after_seq: int, limit: int) -> list[InboxEntry]:
        """One inbox's rows after ``after_seq``, in order: what a resume replays."""
        return await self._entries(
            f"SELECT {_COLUMNS} FROM inbox WHERE recipient = %s AND seq > %s ORDER BY seq LIMIT %s",
            (recipient, after_seq, limit),
        )

    async def seq_of(self, recipient: str, tx_id: str) -> int | None:
        async with self._pool.connection() as db:
            row = await (
                await db.execute(
                    "SELECT seq FROM inbox WHERE recipient = %s AND tx = %s",
                    (recipient, tx_key(tx_id)),
                )
            ).fetchone()
        return None if row is None else int(row[0])

    async def before_newest(self, recipient: str, count: int) -> int:
        """The ``seq`` just before the ``count`` newest rows of an inbox (0: all of them)."""
        async with self._pool.connection() as db:
            row = await (
                await db.execute(
                    "SELECT seq FROM inbox WHERE recipient = %s ORDER BY seq DESC "
                    "OFFSET %s LIMIT 1",
                    (recipient, count),
                )
            ).fetchone()
        return 0 if row is None else int(row[0])

    async def forget_older_than(self, age: timedelta, batch: int = 5000) -> int:
        """Deletes rows written longer than ``age`` ago, a batch at a time; how many."""
        deleted = 0
        while True:
            async with self._pool.connection() as db:
                cur = await db.execute(
                    "DELETE FROM inbox WHERE seq IN (SELECT seq FROM inbox "
                    "WHERE written_at < now() - %s ORDER BY written_at LIMIT %s)",
                    (age, batch),
                )
                deleted += cur.rowcount
            if cur.rowcount < batch:
                return deleted

    async def _entries(self, query: str, params: tuple[object, ...]) -> list[InboxEntry]:
        async with self._pool.connection() as db, db.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, params)
            return [_entry(row) for row in await cur.fetchall()]
