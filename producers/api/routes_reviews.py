"""Break-glass reviews: a data-protection officer lists the emergency bypasses of their
organisation's records and records a verdict, which goes to the ledger like any command."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from producers.api.context import PrincipalDep, ServicesDep
from producers.api.models import Accepted, Problem, ReviewList, VerdictRequest
from producers.errors import BadRequest, ReviewDecided, TransferNotFound, WrongRole
from read_model.cursor import BadCursor, Cursor
from read_model.reviews import ReviewStatus
from schemas import RecordReviewVerdict, Role
from service_runtime.users import Principal

router = APIRouter(prefix="/v1/reviews", tags=["reviews"])
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem} for code in (401, 403, 404, 409, 422)
}


def _officer(principal: Principal) -> None:
    if principal.role is not Role.DPO:
        raise WrongRole("reviews are for data-protection officers (role dpo)")


@router.get("", responses=ERRORS)
async def list_reviews(
    principal: PrincipalDep,
    ctx: ServicesDep,
    status: ReviewStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    transfer_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> ReviewList:
    """The reviews of the caller's organisation as the source, soonest due first; with
    ``transfer_id``, only that transfer's review (an officer looking one up)."""
    _officer(principal)
    try:
        after = None if cursor is None else Cursor.decode(cursor)
    except BadCursor as error:
        raise BadRequest(str(error)) from error
    page = await ctx.reviews.page(principal.org, limit, status, after, transfer_id)
    notes = await ctx.notes.of([review.transfer_id for review in page.items])
    items = [
        review.model_copy(update={"note": notes.get(review.transfer_id)}) for review in page.items
    ]
    return ReviewList(items=items, next_cursor=page.next_cursor)


@router.post("/{review_id}", status_code=status.HTTP_202_ACCEPTED, responses=ERRORS)
async def record_verdict(
    review_id: str, body: VerdictRequest, principal: PrincipalDep, ctx: ServicesDep
) -> Accepted:
    """Records the verdict (justified or unjustified, with a coded reason) as a ledger
    transaction; it shows in the transfer's history once committed."""
    _officer(principal)
    found = await ctx.reviews.one(review_id)
    if found is None or found[0] != principal.org:
        # Another organisation's review is as unknown to this officer as a missing one.
        raise TransferNotFound(f"no review {review_id} for {principal.org}")
    _, review = found
    if review.verdict is not None:
        raise ReviewDecided(f"review {review_id} is decided already: {review.verdict.value}")
    await ctx.publisher.publish_and_wait(
        RecordReviewVerdict(
            event_id=uuid.uuid4(),
            correlation_id=review.transfer_id,
            transfer_id=review.transfer_id,
            actor=principal.actor,
            verdict=body.verdict,
            reason=body.reason,
        )
    )
    return Accepted(transfer_id=review.transfer_id)
