"""Reads of the Applications Database: transfers as projected (one, or a page of a
viewer's), their history, and user preferences. Every query is answered from an index."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from read_model import operations
from read_model.codes import pseudonym_key, pseudonym_of, tx_id_of
from read_model.cursor import Cursor
from read_model.documents import HistoryEntry, Rejection, TransferSummary, TransferView
from schemas import DEFAULT_LANGUAGE, Actor, Language, Role, TransferState

Side = Literal["requester", "source"]
_SIDE_COLUMNS: dict[Side, str] = {"requester": "requesting_org", "source": "source_org"}
_SUMMARY = (
    "transfer_id, state, previous_state, requesting_org, source_org, emergency, "
    "review_required, created_at, updated_at, consent_deadline"
)
_HISTORY = (
    "h.tx, h.block_number, h.from_state, h.to_state, h.action, h.actor_user_id, "
    "h.actor_org, h.actor_role, h.at, h.reason AS h_reason, h.legal_basis AS h_legal_basis"
)
_VIEW = (
    "t.transfer_id, t.state, t.previous_state, t.requesting_org, t.source_org, "
    "t.patient_pseudonym, t.emergency, t.review_required, t.legal_basis, t.purpose, "
    "t.created_at, t.updated_at, t.consent_deadline, t.last_tx, t.last_block, t.last_rejection, "
    "t.review_deadline, t.review_verdict, t.review_reason, t.review_overdue"
)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Whose transfers: a patient sees their own, a professional their organisation's."""

    role: Role
    org: str
    patient_pseudonym: str | None


@dataclass(frozen=True, slots=True)
class ListFilter:
    state: TransferState | None = None
    emergency: bool | None = None
    side: Side | None = None  # a professional's organisation as requester or as source
    updated_after: datetime | None = None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[TransferSummary]
    next_cursor: str | None


def _history_entry(row: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(
        tx_id=tx_id_of(row["tx"]),
        block_number=row["block_number"],
        from_state=row["from_state"],
        to_state=row["to_state"],
        action=row["action"],
        actor=Actor(user_id=row["actor_user_id"], org=row["actor_org"], role=row["actor_role"]),
        at=row["at"],
        reason=row["h_reason"],
        legal_basis=row["h_legal_basis"],
    )


class ApplicationsDatabase:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def transfer(self, transfer_id: str) -> TransferView | None:
        """The transfer with its history, in one round trip (a row per history entry)."""
        async with self._pool.connection() as db, db.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                f"SELECT {_VIEW}, {_HISTORY} FROM transfers t "
                "LEFT JOIN transfer_history h ON h.transfer_key = t.transfer_key "
                "WHERE t.transfer_id = %s",
                (transfer_id,),
            )
            rows = await cur.fetchall()
        if not rows:
            return None
        first = rows[0]
        history = sorted(
            (_history_entry(row) for row in rows if row["tx"] is not None),
            key=lambda entry: (entry.block_number, entry.tx_id),
        )
        rejection = first["last_rejection"]
        return TransferView(
            transfer_id=first["transfer_id"],
            state=first["state"],
            previous_state=first["previous_state"],
            requesting_org=first["requesting_org"],
            source_org=first["source_org"],
            patient_pseudonym=pseudonym_of(first["patient_pseudonym"]),
            emergency=first["emergency"],
            review_required=first["review_required"],
            legal_basis=first["legal_basis"],
            purpose=first["purpose"],
            review_deadline=first["review_deadline"],
            review_verdict=first["review_verdict"],
            review_reason=first["review_reason"],
            review_overdue=first["review_overdue"],
            created_at=first["created_at"],
            updated_at=first["updated_at"],
            consent_deadline=first["consent_deadline"],
            last_tx_id=tx_id_of(first["last_tx"]),
            last_block=first["last_block"],
            last_rejection=None if rejection is None else Rejection.model_validate(rejection),
            history=tuple(history),
        )

    async def page(
        self,
        viewer: Viewer,
        limit: int,
        cursor: Cursor | None = None,
        only: ListFilter = ListFilter(),
    ) -> Page:
        """Newest first; ``limit`` items at most and the cursor of the next page, if any."""
        owners: list[tuple[str, object]]
        if viewer.role is Role.PATIENT:
            if viewer.patient_pseudonym is None:
                return Page([], None)
            owners = [("patient_pseudonym", pseudonym_key(viewer.patient_pseudonym))]
        elif only.side is not None:
            owners = [(_SIDE_COLUMNS[only.side], viewer.org)]
        else:
            owners = [(column, viewer.org) for column in _SIDE_COLUMNS.values()]
        # One limited index scan per owning column, merged: an OR of two columns would
        # defeat both indexes.
        parts: list[str] = []
        params: list[object] = []
        for column, owner in owners:
            where, part_params = _predicates(column, owner, cursor, only)
            parts.append(
                f"(SELECT {_SUMMARY} FROM transfers WHERE {where} "
                "ORDER BY updated_at DESC, transfer_id DESC LIMIT %s)"
            )
            params += [*part_params, limit + 1]
        query = " UNION ALL ".join(parts)
        if len(parts) > 1:
            query = (
                f"SELECT * FROM ({query}) AS both_sides "
                "ORDER BY updated_at DESC, transfer_id DESC LIMIT %s"
            )
            params.append(limit + 1)
        async with self._pool.connection() as db, db.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, params)
            rows = await cur.fetchall()
        items = [TransferSummary.model_validate(row) for row in rows[:limit]]
        more = len(rows) > limit
        next_cursor = Cursor(items[-1].updated_at, items[-1].transfer_id).encode() if more else None
        return Page(items, next_cursor)

    async def history_of(self, transfer_ids: Sequence[str]) -> dict[str, tuple[HistoryEntry, ...]]:
        """Each transfer's history in ledger order."""
        async with self._pool.connection() as db, db.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                f"SELECT t.transfer_id, {_HISTORY} FROM transfer_history h "
                "JOIN transfers t ON t.transfer_key = h.transfer_key "
                "WHERE t.transfer_id = ANY(%s)",
                (list(transfer_ids),),
            )
            rows = await cur.fetchall()
        found: dict[str, list[HistoryEntry]] = {tid: [] for tid in transfer_ids}
        for row in rows:
            found[row["transfer_id"]].append(_history_entry(row))
        return {
            tid: tuple(sorted(entries, key=lambda e: (e.block_number, e.tx_id)))
            for tid, entries in found.items()
        }

    async def transfers_per_state(self) -> dict[str, int]:
        return await operations.transfers_per_state(self._pool)

    async def stuck_transfers(self, limit: int) -> list[operations.StuckTransfer]:
        return await operations.stuck_transfers(self._pool, limit)

    async def language(self, user_id: str) -> Language:
        async with self._pool.connection() as db:
            row = await (
                await db.execute("SELECT language FROM preferences WHERE user_id = %s", (user_id,))
            ).fetchone()
        language: Language = row[0] if row else DEFAULT_LANGUAGE
        return language

    async def set_language(self, user_id: str, language: Language) -> Language:
        async with self._pool.connection() as db:
            await db.execute(
                "INSERT INTO preferences (user_id, language) VALUES (%s, %s) "
                "ON CONFLICT (user_id) DO UPDATE SET language = EXCLUDED.language",
                (user_id, language),
            )
        return language


def _predicates(
    column: str, owner: object, cursor: Cursor | None, only: ListFilter
) -> tuple[str, list[object]]:
    clauses = [f"{column} = %s"]
    params: list[object] = [owner]
    if cursor is not None:
        clauses.append("(updated_at, transfer_id) < (%s, %s)")
        params += [cursor.updated_at, cursor.transfer_id]
    if only.state is not None:
        clauses.append("state = %s::transfer_state")
        params.append(only.state.value)
    if only.emergency is not None:
        clauses.append("emergency = %s")
        params.append(only.emergency)
    if only.updated_after is not None:
        clauses.append("updated_at > %s")
        params.append(only.updated_after)
    return " AND ".join(clauses), params
