"""Transfer routes: thin, they parse, authorise against the table, publish, answer 202."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, status

from producers.api.context import PrincipalDep, ServicesDep
from producers.api.errors import BadRequest, TransferNotFound
from producers.api.ledger_client import LedgerRecord, LedgerRecordMissing, LedgerUnavailable
from producers.api.models import Accepted, ConsentRequest, CreateTransferRequest, Problem
from producers.auth.principal import Principal
from producers.authorization import AccessDenied, authorise, may_see
from schemas import (
    Action,
    CancelTransfer,
    CloseTransfer,
    CreateTransfer,
    GrantConsent,
    MarkReceived,
    MarkTransferred,
    RefuseConsent,
    RevokeConsent,
    Role,
    TransferCommand,
    pseudonymise,
)
from schemas.views import HistoryEntry, TransferView

router = APIRouter(prefix="/v1/transfers", tags=["transfers"])
IdempotencyKey = Annotated[
    uuid.UUID | None,
    Header(description="Repeat a request with the same key and it takes effect once"),
]
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem} for code in (401, 403, 404, 409, 422)
}


def _event_id(principal: Principal, key: uuid.UUID | None) -> uuid.UUID:
    return uuid.uuid4() if key is None else uuid.uuid5(key, principal.user_id)


async def _visible(ctx: ServicesDep, principal: Principal, transfer_id: str) -> TransferView:
    transfer = await ctx.database.transfer(transfer_id)
    if transfer is None:
        raise TransferNotFound(f"no transfer {transfer_id}")
    if not may_see(principal.actor, transfer):
        raise AccessDenied("you are not a party to this transfer")
    return transfer


@router.post("", status_code=status.HTTP_202_ACCEPTED, responses=ERRORS)
async def create_transfer(
    body: CreateTransferRequest,
    principal: PrincipalDep,
    ctx: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    """A health professional asks another organisation for a patient's records."""
    if principal.role is not Role.HEALTH_PROFESSIONAL:
        raise AccessDenied("only health professionals request transfers")
    if body.source_org == principal.org:
        raise BadRequest("source_org must be another organisation than your own")
    event_id = _event_id(principal, idempotency_key)
    transfer_id = f"tr-{event_id.hex}"
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
            reason=body.reason,
        )
    )
    return Accepted(transfer_id=transfer_id)


@router.get("", responses=ERRORS)
async def list_transfers(principal: PrincipalDep, ctx: ServicesDep) -> list[TransferView]:
    """Professionals: their organisation's transfers. Patients: their own."""
    return await ctx.database.transfers_for(
        principal.role, principal.org, principal.patient_pseudonym, ctx.settings.list_limit
    )


@router.get("/{transfer_id}", responses=ERRORS)
async def get_transfer(transfer_id: str, principal: PrincipalDep, ctx: ServicesDep) -> TransferView:
    return await _visible(ctx, principal, transfer_id)


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
    try:
        return await ctx.ledger.record(principal.org, transfer_id)
    except LedgerRecordMissing as error:
        raise TransferNotFound(str(error)) from error
    except LedgerUnavailable as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, str(error), headers={"Retry-After": "5"}
        ) from error


async def _act(
    ctx: ServicesDep,
    principal: Principal,
    transfer_id: str,
    action: Action,
    command: type[TransferCommand],
    key: uuid.UUID | None,
    **fields: object,
) -> Accepted:
    transfer = await _visible(ctx, principal, transfer_id)
    authorise(principal.actor, transfer, transfer.state, action)
    await ctx.publisher.publish_and_wait(
        command(  # type: ignore[arg-type]
            event_id=_event_id(principal, key),
            correlation_id=transfer_id,
            transfer_id=transfer_id,
            actor=principal.actor,
            **fields,
        )
    )
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
    if body.decision == "grant":
        return await _act(
            ctx, principal, transfer_id, Action.GRANT_CONSENT, GrantConsent, idempotency_key
        )
    return await _act(
        ctx, principal, transfer_id, Action.REFUSE_CONSENT, RefuseConsent, idempotency_key
    )


@router.post("/{transfer_id}/revoke", status_code=status.HTTP_202_ACCEPTED, responses=ERRORS)
async def revoke_consent(
    transfer_id: str,
    principal: PrincipalDep,
    ctx: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    return await _act(ctx, principal, transfer_id, Action.REVOKE, RevokeConsent, idempotency_key)


@router.post("/{transfer_id}/transferred", status_code=status.HTTP_202_ACCEPTED, responses=ERRORS)
async def mark_transferred(
    transfer_id: str,
    principal: PrincipalDep,
    ctx: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    return await _act(
        ctx, principal, transfer_id, Action.MARK_TRANSFERRED, MarkTransferred, idempotency_key
    )


@router.post("/{transfer_id}/received", status_code=status.HTTP_202_ACCEPTED, responses=ERRORS)
async def mark_received(
    transfer_id: str,
    principal: PrincipalDep,
    ctx: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    return await _act(
        ctx, principal, transfer_id, Action.MARK_RECEIVED, MarkReceived, idempotency_key
    )


@router.post("/{transfer_id}/close", status_code=status.HTTP_202_ACCEPTED, responses=ERRORS)
async def close_transfer(
    transfer_id: str,
    principal: PrincipalDep,
    ctx: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    return await _act(ctx, principal, transfer_id, Action.CLOSE, CloseTransfer, idempotency_key)


@router.post("/{transfer_id}/cancel", status_code=status.HTTP_202_ACCEPTED, responses=ERRORS)
async def cancel_transfer(
    transfer_id: str,
    principal: PrincipalDep,
    ctx: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    return await _act(ctx, principal, transfer_id, Action.CANCEL, CancelTransfer, idempotency_key)
