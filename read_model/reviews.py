"""Reviews of emergency bypasses as a data-protection officer lists them: every transfer
of their organisation as the source that a bypass put under review, soonest due first,
from the partial index ``transfers_reviews``."""

from dataclasses import dataclass
from typing import Any, Literal

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import AwareDatetime

from read_model.cursor import Cursor
from schemas.codes import PurposeOfUse, ReviewReason, ReviewVerdict
from schemas.envelope import Message

ReviewStatus = Literal["open", "overdue", "decided"]
_STATUS_CLAUSES: dict[ReviewStatus, str] = {
    "open": "review_verdict IS NULL",
    "overdue": "review_verdict IS NULL AND review_overdue",
    "decided": "review_verdict IS NOT NULL",
}


class Review(Message):
    review_id: str  # the transfer's id: one review per emergency bypass
    transfer_id: str
    requesting_org: str
    requested_by: str | None  # the professional who declared the emergency
    purpose: PurposeOfUse
    state: str
    opened_at: AwareDatetime | None
    deadline: AwareDatetime | None
    overdue: bool
    verdict: ReviewVerdict | None
    reason: ReviewReason | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ReviewPage:
    items: list[Review]
    next_cursor: str | None


_SELECT = """
SELECT t.transfer_id, t.requesting_org, t.purpose, t.state, t.review_deadline,
    t.review_overdue, t.review_verdict, t.review_reason,
    (SELECT h.actor_user_id FROM transfer_history h
     WHERE h.transfer_key = t.transfer_key AND h.action = 'create' LIMIT 1) AS requested_by,
    (SELECT h.at FROM transfer_history h
     WHERE h.transfer_key = t.transfer_key AND h.action = 'bypass_consent' LIMIT 1) AS opened_at
FROM transfers t
"""


def _review(row: dict[str, Any]) -> Review:
    return Review(
        review_id=row["transfer_id"],
        transfer_id=row["transfer_id"],
        requesting_org=row["requesting_org"],
        requested_by=row["requested_by"],
        purpose=row["purpose"],
        state=row["state"],
        opened_at=row["opened_at"],
        deadline=row["review_deadline"],
        overdue=row["review_overdue"],
        verdict=row["review_verdict"],
        reason=row["review_reason"],
    )


class Reviews:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def page(
        self,
        source_org: str,
        limit: int,
        status: ReviewStatus | None = None,
        cursor: Cursor | None = None,
        transfer_id: str | None = None,
    ) -> ReviewPage:
        clauses = ["t.source_org = %s", "t.review_required"]
        params: list[object] = [source_org]
        if transfer_id is not None:  # the one review an officer looks up
            clauses.append("t.transfer_id = %s")
            params.append(transfer_id)
        if status is not None:
            clauses.append(_STATUS_CLAUSES[status])
        if cursor is not None:
            clauses.append("(t.review_deadline, t.transfer_id) > (%s, %s)")
            params += [cursor.updated_at, cursor.transfer_id]
        query = (
            f"{_SELECT} WHERE {' AND '.join(clauses)} "
            "ORDER BY t.review_deadline, t.transfer_id LIMIT %s"
        )
        async with self._pool.connection() as db, db.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, [*params, limit + 1])
            rows = await cur.fetchall()
        items = [_review(row) for row in rows[:limit]]
        last = items[-1] if len(rows) > limit else None
        next_cursor = (
            None
            if last is None or last.deadline is None
            else Cursor(last.deadline, last.transfer_id).encode()
        )
        return ReviewPage(items, next_cursor)

    async def one(self, transfer_id: str) -> tuple[str, Review] | None:
        """A review with its source organisation, or None when the transfer has none."""
        async with self._pool.connection() as db, db.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                f"{_SELECT.replace('SELECT ', 'SELECT t.source_org, ', 1)} "
                "WHERE t.transfer_id = %s AND t.review_required",
                (transfer_id,),
            )
            row = await cur.fetchone()
        return None if row is None else (row["source_org"], _review(row))
