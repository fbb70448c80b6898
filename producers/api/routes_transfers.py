"""Transfer routes: thin, they parse, authorise against the table, publish, answer 202."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from prometheus_client import Counter
from pydantic import AwareDatetime, BaseModel

from producers.api.context import PrincipalDep, ServicesDep
from producers.api.ledger_client import LedgerRecord
from producers.api.models import (
    Accepted,
    CancelRequest,
    ConsentRequest,
    CreateTransferRequest,
    Problem,
    TransferDetail,
    TransferPage,
)
from producers.authorization import (
    authorise,
    authorise_create,
    may_become_allowed,
    permitted_actions,
)
from producers.errors import (
    ActionNotAllowedNow,
    BadRequest,
    IdempotencyKeyReused,
    LedgerError,
    NotAParty,
    TransferNotFound,
)
from read_model.cursor import BadCursor, Cursor
from read_model.documents import HistoryEntry, TransferView
from read_model.idempotency import digest
from read_model.queries import ListFilter, Side, Viewer
from schemas import (
    ACTION_COMMANDS,
    TRANSITIONS,
    Action,
    CancelReason,
    CancelTransfer,
    CreateTransfer,
    Party,
    Role,
    TransferState,
    may_see,
    parties_of,
    pseudonymise,
)
from service_runtime.users import Principal

router = APIRouter(prefix="/v1/transfers", tags=["transfers"])
STALE_REFUSALS = Counter(
    "curex_api_refusals_asked_of_the_ledger_total",
    "Actions the read model's state refused that a later state allows, asked of the ledger: "
    "lifted (the ledger was ahead), confirmed, or ledger_unavailable (refused as before)",
    ["outcome"],
)
CONSENT_ACTIONS = frozenset({Action.GRANT_CONSENT, Action.REFUSE_CONSENT})
IdempotencyKey = Annotated[
    uuid.UUID | None,
    Header(
        description=(
            "Repeat a request with the same key and it takes effect once. A key belongs to "
            "one user, route and transfer for 24 hours; sent with another request it is "
            "refused with 422."
        )
    ),
]
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem} for code in (401, 403, 404, 409, 413, 422)
}


async def _event_id(
    ctx: ServicesDep,
    principal: Principal,
    key: uuid.UUID | None,
    route: str,
    transfer_id: str = "",
    request: str = "",
) -> uuid.UUID:
    """A fresh event id, or the one ``key`` stands for: scoped to the user, the route and the
    transfer, and refused (422) when the key was first sent with another request."""
    if key is None:
        return uuid.uuid4()
    scope = "\x1f".join((principal.user_id, route, transfer_id))
    claimed = await ctx.idempotency.claim(digest(scope, str(key)), digest(request))
    if not claimed:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was first used with a different request; use a new key"
        )
    return uuid.uuid5(key, scope)


async def _visible(ctx: ServicesDep, principal: Principal, transfer_id: str) -> TransferView:
    transfer = await ctx.database.transfer(transfer_id)
    if transfer is None:
        raise TransferNotFound(f"no transfer {transfer_id}")
    if not may_see(principal.actor, transfer):
        raise NotAParty("you are not a party to this transfer")
    return transfer


@router.post(
    "", status_code=status.HTTP_202_ACCEPTED, responses={**ERRORS, 429: {"model": Problem}}
)
async def create_transfer(
    body: CreateTransferRequest,
    principal: PrincipalDep,
    ctx: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    """A health professional asks another organisation for a patient's records."""
    authorise_create(principal.actor, body.source_org)
    await ctx.create_limits.admit(principal.actor, body.emergency)
    event_id = await _event_id(
        ctx, principal, idempotency_key, "create", request=body.model_dump_json()
    )
    transfer_id = f"tr-{event_id.hex}"
    if body.note is not None:
        # Kept before the command goes out, so no committed transfer lacks its note.
        await ctx.notes.keep(transfer_id, principal.username, body.note)
    await ctx.publisher.publish_and_wait(
        CreateTransfer(
            event_id=event_id,
            correlation_id=transfer_id,
            transfer_id=transfer_id,
            actor=principal.actor,
            source_org=body.source_org,
            patient_pseudonym=pseudonymise(
                ctx.settings.pseudonym_key.encode(), body.source_org, body.patient_id
            ),
            emergency=body.emergency,
            purpose=body.purpose,
        )
    )
    return Accepted(transfer_id=transfer_id)


def _json(model: BaseModel) -> Response:
    """The model's JSON as pydantic writes it; FastAPI would validate it a second time."""
    return Response(model.model_dump_json(), media_type="application/json")


@router.get("", responses=ERRORS, response_model=TransferPage)
async def list_transfers(
    principal: PrincipalDep,
    ctx: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100, description="items per page")] = 20,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
    state: TransferState | None = None,
    emergency: bool | None = None,
    side: Annotated[
        Side | None,
        Query(alias="as", description="professionals: their organisation as requester or source"),
    ] = None,
    updated_after: AwareDatetime | None = None,
) -> Response:
    """Professionals: their organisation's transfers. Patients: their own. Newest first."""
    try:
        after = None if cursor is None else Cursor.decode(cursor)
    except BadCursor as error:
        raise BadRequest(str(error)) from error
    page = await ctx.database.page(
        Viewer(principal.role, principal.org, principal.patient_pseudonym),
        min(limit, ctx.settings.list_limit),
        after,
        ListFilter(state=state, emergency=emergency, side=side, updated_after=updated_after),
    )
    return _json(TransferPage(items=page.items, next_cursor=page.next_cursor))


@router.get("/{transfer_id}", responses=ERRORS, response_model=TransferDetail)
async def get_transfer(transfer_id: str, principal: PrincipalDep, ctx: ServicesDep) -> Response:
    """The transfer now, with the actions the caller may take on it in this state."""
    transfer = await _visible(ctx, principal, transfer_id)
    actions = permitted_actions(principal.actor, transfer, transfer.state, PERSON_ACTIONS)
    note = None
    if _may_read_note(principal, transfer):
        note = (await ctx.notes.of([transfer_id])).get(transfer_id)
    return _json(TransferDetail(**dict(transfer), actions=actions, note=note))


def _may_read_note(principal: Principal, transfer: TransferView) -> bool:
    """The requester's colleagues, and the source organisation's data-protection officer."""
    parties = parties_of(principal.actor, transfer)
    if principal.role is Role.HEALTH_PROFESSIONAL:
        return Party.REQUESTING_ORG in parties
    return principal.role is Role.DPO and Party.SOURCE_ORG in parties


@router.get("/{transfer_id}/history", responses=ERRORS)
async def get_history(
    transfer_id: str, principal: PrincipalDep, ctx: ServicesDep
) -> list[HistoryEntry]:
    """Every transition with the ledger transaction id and block number that recorded it."""
    return list((await _visible(ctx, principal, transfer_id)).history)


@router.get("/{transfer_id}/ledger", responses={**ERRORS, 503: {"model": Problem}})
async def get_ledger_record(
    transfer_id: str, principal: PrincipalDep, ctx: ServicesDep
) -> LedgerRecord:
    """The transfer and its history as read from the Blockchain API of the caller's
    organisation, to compare with the read model's answers; 503 when that API is down."""
    await _visible(ctx, principal, transfer_id)
    return await ctx.ledger.record(principal.org, transfer_id)


async def _authorise_now(
    ctx: ServicesDep, principal: Principal, transfer: TransferView, action: Action
) -> None:
    """Authorise on the read model's state; a refusal that a later state would lift is
    asked again of the ledger. The read model can trail the notifications a client acts
    on, and its state must not refuse what the ledger already allows."""
    try:
        authorise(principal.actor, transfer, transfer.state, action)
    except ActionNotAllowedNow as refusal:
        if not may_become_allowed(principal.actor, transfer, transfer.state, action):
            raise
        try:
            on_ledger = await ctx.ledger.transfer(principal.org, transfer.transfer_id)
        except LedgerError:
            STALE_REFUSALS.labels("ledger_unavailable").inc()
            raise refusal from None
        if on_ledger.state is transfer.state:
            STALE_REFUSALS.labels("confirmed").inc()
            raise
        try:
            authorise(principal.actor, transfer, on_ledger.state, action)
        except ActionNotAllowedNow:
            STALE_REFUSALS.labels("confirmed").inc()
            raise
        STALE_REFUSALS.labels("lifted").inc()


async def _act(
    ctx: ServicesDep,
    principal: Principal,
    transfer_id: str,
    action: Action,
    key: uuid.UUID | None,
    cancel_reason: CancelReason | None = None,
) -> Accepted:
    transfer = await _visible(ctx, principal, transfer_id)
    await _authorise_now(ctx, principal, transfer, action)
    # Consent's two decisions share a route: the decision is the request.
    route = "consent" if action in CONSENT_ACTIONS else action.value
    request = action.value if cancel_reason is None else f"{action.value}:{cancel_reason}"
    event_id = await _event_id(ctx, principal, key, route, transfer_id, request)
    fields = {"event_id": event_id, "correlation_id": transfer_id, "transfer_id": transfer_id}
    command = (
        CancelTransfer(**fields, actor=principal.actor, reason=cancel_reason)
        if action is Action.CANCEL
        else ACTION_COMMANDS[action](**fields, actor=principal.actor)
    )
    await ctx.publisher.publish_and_wait(command)
    return Accepted(transfer_id=transfer_id)


@router.post("/{transfer_id}/consent", status_code=status.HTTP_202_ACCEPTED, responses=ERRORS)
async def decide_consent(
    transfer_id: str,
    body: ConsentRequest,
    principal: PrincipalDep,
    ctx: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    """The patient grants or refuses consent."""
    action = Action.GRANT_CONSENT if body.decision == "grant" else Action.REFUSE_CONSENT
    return await _act(ctx, principal, transfer_id, action, idempotency_key)


# The path of each action a person takes with a body-less POST; consent decisions share
# /consent above. Every such action in the transition table must have one (a unit test
# holds the two together).
ACTION_PATHS: dict[Action, str] = {
    Action.REVOKE: "revoke",
    Action.MARK_TRANSFERRED: "transferred",
    Action.MARK_RECEIVED: "received",
    Action.CLOSE: "close",
    Action.CANCEL: "cancel",
}


# Everything a person can do to an existing transfer, in the order the pages offer it.
PERSON_ACTIONS: tuple[Action, ...] = (
    Action.GRANT_CONSENT,
    Action.REFUSE_CONSENT,
    *ACTION_PATHS,
)


def _describe(action: Action) -> str:
    """Who may take ``action`` from which states, as the transition table says."""
    lines = []
    for (state, rule_action), rule in TRANSITIONS.items():
        if rule_action is action and state is not None:
            who = ", ".join(
                sorted(
                    f"{role.value} of the {party.value}"
                    for role in rule.roles
                    for party in rule.parties
                )
            )
            lines.append(f"- from {state.value} to {rule.next_state.value}: {who}")
    return "\n".join(sorted(lines))


def _action_endpoint(action: Action) -> Callable[..., Awaitable[Accepted]]:
    async def take_action(
        transfer_id: str,
        principal: PrincipalDep,
        ctx: ServicesDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Accepted:
        return await _act(ctx, principal, transfer_id, action, idempotency_key)

    return take_action


@router.post(
    "/{transfer_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    responses=ERRORS,
    name=Action.CANCEL.value,
    summary="Cancel",
    description=_describe(Action.CANCEL),
)
async def cancel(
    transfer_id: str,
    principal: PrincipalDep,
    ctx: ServicesDep,
    body: CancelRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    """The requesting professional cancels, with a coded reason (never free text: it is
    recorded on the ledger)."""
    reason = (body or CancelRequest()).reason
    return await _act(ctx, principal, transfer_id, Action.CANCEL, idempotency_key, reason)


for _action, _path in ACTION_PATHS.items():
    if _action is Action.CANCEL:
        continue  # above: it takes a body
    router.add_api_route(
        f"/{{transfer_id}}/{_path}",
        _action_endpoint(_action),
        methods=["POST"],
        status_code=status.HTTP_202_ACCEPTED,
        responses=ERRORS,
        name=_action.value,
        summary=_action.value.replace("_", " ").capitalize(),
        description=_describe(_action),
    )
