"""The transfer documents: what the Applications Server shows, built from ledger blocks.

The read model alone owns this shape; the projector writes it, the queries read it.
"""

from pydantic import AwareDatetime

from schemas.actors import Actor
from schemas.codes import PurposeOfUse, ReviewReason, ReviewVerdict
from schemas.envelope import Message
from schemas.ledger import TransactionCommitted
from schemas.states import TransferState
from schemas.transitions import Action


class HistoryEntry(Message):
    tx_id: str
    block_number: int
    from_state: TransferState | None
    to_state: TransferState
    action: Action
    actor: Actor
    at: AwareDatetime
    reason: str | None = None
    legal_basis: str | None = None


def history_entry(report: TransactionCommitted) -> HistoryEntry:
    """The history entry a committed transfer transaction adds."""
    transfer = report.result.transfer
    if transfer is None:
        raise ValueError("only a transfer's transactions make history entries")
    move = transfer.last_transition
    return HistoryEntry(
        tx_id=report.tx_id,
        block_number=report.block_number,
        from_state=move.from_state,
        to_state=move.to_state,
        action=move.action,
        actor=move.actor,
        at=move.at,
        reason=move.reason,
        legal_basis=move.legal_basis,
    )


class Rejection(Message):
    """A command the contract refused after the API had accepted it (a race)."""

    code: str
    reason: str
    current_state: TransferState | None
    command_event_id: str
    at: AwareDatetime


class TransferSummary(Message):
    """A transfer as a list shows it: state, parties, times and the emergency flag."""

    transfer_id: str
    state: TransferState
    previous_state: TransferState | None = None
    requesting_org: str
    source_org: str
    emergency: bool
    review_required: bool
    created_at: AwareDatetime
    updated_at: AwareDatetime
    consent_deadline: AwareDatetime | None = None


class TransferView(Message):
    transfer_id: str
    state: TransferState
    previous_state: TransferState | None = None
    requesting_org: str
    source_org: str
    patient_pseudonym: str
    emergency: bool
    review_required: bool
    review_deadline: AwareDatetime | None = None
    review_verdict: ReviewVerdict | None = None
    review_reason: ReviewReason | None = None
    review_overdue: bool = False
    legal_basis: str | None = None
    purpose: PurposeOfUse
    created_at: AwareDatetime
    updated_at: AwareDatetime
    consent_deadline: AwareDatetime | None = None
    last_tx_id: str
    last_block: int
    last_rejection: Rejection | None = None
    history: tuple[HistoryEntry, ...] = ()


def transfer_view(report: TransactionCommitted) -> TransferView:
    """A transfer's document as of ``report`` alone: no history, no rejection yet."""
    transfer = report.result.transfer
    if transfer is None:
        raise ValueError("only a transfer's transactions make transfer documents")
    return TransferView(
        **transfer.model_dump(exclude={"last_transition"}),
        previous_state=transfer.last_transition.from_state,
        last_tx_id=report.tx_id,
        last_block=report.block_number,
    )
