"""What the platform does next when the ledger commits a transfer's new state (pure).

Derived commands take an event id computed from the committed transaction, so a block
event seen twice yields the same command and the contract applies it once.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from uuid import NAMESPACE_URL, uuid5

from processors.intake import system_actor
from processors.records import RecordsSystem
from schemas import (
    REVIEW_ACTIONS,
    Action,
    ApplyActionTx,
    AuditRiskTx,
    FlagReviewOverdueTx,
    LedgerCommand,
    Transfer,
    TransferState,
)

DeadlineKind = Literal["consent", "review"]


@dataclass(frozen=True, slots=True)
class ConsentDeadline:
    """The one deadline a transfer may have at a time: consent awaited (before any bypass),
    or the review of an emergency bypass (after it)."""

    transfer_id: str
    source_org: str
    deadline: datetime | None  # None: nothing awaited any more
    kind: DeadlineKind = "consent"


@dataclass(frozen=True, slots=True)
class Reaction:
    commands: list[LedgerCommand] = field(default_factory=list)
    deadline: ConsentDeadline | None = None


def derived_event_id(tx_id: str, step: str) -> str:
    return str(uuid5(NAMESPACE_URL, f"curex:{tx_id}:{step}"))


def review_deadline(transfer: Transfer) -> ConsentDeadline:
    """The open review's deadline, or the clearing of any deadline."""
    review_open = (
        transfer.review_required
        and transfer.review_verdict is None
        and not transfer.review_overdue
        and transfer.review_deadline is not None
    )
    if review_open:
        return ConsentDeadline(
            transfer.transfer_id, transfer.source_org, transfer.review_deadline, "review"
        )
    return ConsentDeadline(transfer.transfer_id, transfer.source_org, None)


def react(tx_id: str, transfer: Transfer, records: RecordsSystem) -> Reaction:
    state = transfer.state
    if transfer.last_transition.action in REVIEW_ACTIONS:
        # A verdict or an overdue flag changes no state: nothing follows but the timer.
        return Reaction(deadline=review_deadline(transfer))
    if state is TransferState.INITIALISED:
        return Reaction(
            [
                _command(
                    tx_id,
                    "audit",
                    transfer,
                    transfer.requesting_org,
                    AuditRiskTx(transfer_id=transfer.transfer_id),
                )
            ]
        )
    if state is TransferState.RISK_ACCEPTED and transfer.emergency:
        return Reaction([_apply(tx_id, transfer, Action.BYPASS_CONSENT, transfer.requesting_org)])
    if state is TransferState.RISK_ACCEPTED:
        return Reaction(
            deadline=ConsentDeadline(
                transfer.transfer_id, transfer.source_org, transfer.consent_deadline
            )
        )
    if state in (TransferState.PATIENT_ACCEPTED, TransferState.EMERGENCY_BYPASS):
        available = records.holds_records(transfer.source_org, transfer.patient_pseudonym)
        action = Action.DECLARE_AVAILABLE if available else Action.DECLARE_UNAVAILABLE
        return Reaction(
            [_apply(tx_id, transfer, action, transfer.source_org)], review_deadline(transfer)
        )
    return Reaction(deadline=review_deadline(transfer))


def expire_command(transfer_id: str, source_org: str, deadline: datetime) -> LedgerCommand:
    return LedgerCommand(
        event_id=derived_event_id(f"{transfer_id}:{deadline.isoformat()}", "expire"),
        correlation_id=transfer_id,
        actor=system_actor(source_org),
        tx=ApplyActionTx(
            transfer_id=transfer_id, action=Action.EXPIRE, reason="CONSENT_TIME_LIMIT"
        ),
    )


def flag_review_command(transfer_id: str, source_org: str, deadline: datetime) -> LedgerCommand:
    return LedgerCommand(
        event_id=derived_event_id(f"{transfer_id}:{deadline.isoformat()}", "review-overdue"),
        correlation_id=transfer_id,
        actor=system_actor(source_org),
        tx=FlagReviewOverdueTx(transfer_id=transfer_id),
    )


def _apply(tx_id: str, transfer: Transfer, action: Action, org: str) -> LedgerCommand:
    return _command(
        tx_id,
        action.value,
        transfer,
        org,
        ApplyActionTx(transfer_id=transfer.transfer_id, action=action),
    )


def _command(
    tx_id: str, step: str, transfer: Transfer, org: str, tx: AuditRiskTx | ApplyActionTx
) -> LedgerCommand:
    return LedgerCommand(
        event_id=derived_event_id(tx_id, step),
        correlation_id=transfer.transfer_id,
        actor=system_actor(org),
        tx=tx,
    )
