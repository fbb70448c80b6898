"""What the ledger stores and what the ledger gateway submits and reports.

``LedgerCommand`` goes on ``curex.ledger.commands``; ``TransactionCommitted`` and
``CommandRejected`` come back on ``curex.ledger.blocks``.
"""

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, TypeAdapter, model_validator

from schemas.actors import Actor
from schemas.codes import (
    PurposeOfUse,
    ReasonCode,
    ReviewReason,
    ReviewVerdict,
    upcast_free_text_reason,
)
from schemas.envelope import Envelope, Message, OrgId, PatientPseudonym, TransferId
from schemas.risk import OrganisationPolicy, RecordedAssessment
from schemas.safeguards import SafeguardResult
from schemas.states import TransferState
from schemas.transitions import Action

GDPR_VITAL_INTERESTS = "GDPR Art. 6(1)(d), Art. 9(2)(c)"


# ---- transactions (the contract's operations) -------------------------------------


class SetPolicyTx(Message):
    op: Literal["set_policy"] = "set_policy"
    policy: OrganisationPolicy


class RecordRiskScoreTx(Message):
    op: Literal["record_risk_score"] = "record_risk_score"
    assessment: RecordedAssessment


class RecordSafeguardsTx(Message):
    op: Literal["record_safeguards"] = "record_safeguards"
    result: SafeguardResult


class CreateTransferTx(Message):
    op: Literal["create_transfer"] = "create_transfer"
    transfer_id: TransferId
    source_org: OrgId
    patient_pseudonym: PatientPseudonym
    emergency: bool
    purpose: PurposeOfUse

    _upcast = model_validator(mode="before")(upcast_free_text_reason)


class AuditRiskTx(Message):
    op: Literal["audit_risk"] = "audit_risk"
    transfer_id: TransferId


class ApplyActionTx(Message):
    """Any caller-chosen action of the transition table on an existing transfer."""

    op: Literal["apply_action"] = "apply_action"
    transfer_id: TransferId
    action: Action
    reason: ReasonCode | None = None


class RecordReviewVerdictTx(Message):
    """A data-protection officer's verdict on an emergency bypass of their organisation."""

    op: Literal["record_review_verdict"] = "record_review_verdict"
    transfer_id: TransferId
    verdict: ReviewVerdict
    reason: ReviewReason


class FlagReviewOverdueTx(Message):
    """The review of an emergency bypass was not decided within the organisation's time."""

    op: Literal["flag_review_overdue"] = "flag_review_overdue"
    transfer_id: TransferId


Transaction = Annotated[
    SetPolicyTx
    | RecordRiskScoreTx
    | RecordSafeguardsTx
    | CreateTransferTx
    | AuditRiskTx
    | ApplyActionTx
    | RecordReviewVerdictTx
    | FlagReviewOverdueTx,
    Field(discriminator="op"),
]


class LedgerCommand(Envelope):
    """A transaction for the ledger gateway; ``event_id`` is its idempotency key."""

    type: Literal["ledger_command"] = "ledger_command"
    actor: Actor
    tx: Transaction


# ---- world state -----------------------------------------------------------------


class RiskScoresUsed(Message):
    """One organisation's assessment an audit decided on: the evidence, by its id.

    ``assessment_id`` and ``valid_until`` are None for scores from before assessments
    named themselves."""

    org_id: OrgId
    cybersecurity_score: int
    privacy_score: int
    assessed_at: AwareDatetime
    assessment_id: str | None = None
    source: str | None = None
    valid_until: AwareDatetime | None = None


class Transition(Message):
    """One recorded move of a transfer; the unit of its history."""

    transfer_id: TransferId
    from_state: TransferState | None
    to_state: TransferState
    action: Action
    actor: Actor
    at: AwareDatetime
    reason: str | None = None
    legal_basis: str | None = None
    risk_scores: tuple[RiskScoresUsed, ...] = ()


class LedgerHistoryItem(Message):
    """One transition of a transfer as a ledger records it: with its tx id and block."""

    tx_id: str
    block_number: int
    transition: Transition


def _unset(value: object) -> bool:
    return value is None or value is False


class Transfer(Message):
    """A transfer's current state as the ledger holds it: no health data, no identifiers."""

    transfer_id: TransferId
    requesting_org: OrgId
    source_org: OrgId
    patient_pseudonym: PatientPseudonym
    emergency: bool
    purpose: PurposeOfUse
    state: TransferState
    created_at: AwareDatetime
    updated_at: AwareDatetime
    consent_deadline: AwareDatetime | None = None
    # An emergency bypass opens a review by the source organisation's data-protection
    # officer: due by ``review_deadline``, flagged overdue by a timer when it is not. Left
    # out of the document while unset: most transfers never have a review, and each ledger
    # document stays as small as before reviews existed.
    review_required: bool = False
    review_deadline: AwareDatetime | None = Field(default=None, exclude_if=_unset)
    review_verdict: ReviewVerdict | None = Field(default=None, exclude_if=_unset)
    review_reason: ReviewReason | None = Field(default=None, exclude_if=_unset)
    review_overdue: bool = Field(default=False, exclude_if=_unset)
    legal_basis: str | None = None
    last_transition: Transition

    _upcast = model_validator(mode="before")(upcast_free_text_reason)


class TxResult(Message):
    """What a committed transaction did. Replays of the same ``event_id`` return it."""

    tx_id: str
    op: str
    transfer: Transfer | None = None
    policy: OrganisationPolicy | None = None
    assessment: RecordedAssessment | None = None
    safeguards: SafeguardResult | None = None


# ---- reports on curex.ledger.blocks ------------------------------------------------


class TransactionCommitted(Envelope):
    type: Literal["transaction_committed"] = "transaction_committed"
    command_event_id: str
    tx_id: str
    block_number: int = Field(ge=0)
    result: TxResult


class CommandRejected(Envelope):
    """The contract refused a command; nothing was written to the ledger."""

    type: Literal["command_rejected"] = "command_rejected"
    command_event_id: str
    code: str
    reason: str
    current_state: TransferState | None = None


LedgerReport = Annotated[TransactionCommitted | CommandRejected, Field(discriminator="type")]

LEDGER_COMMAND: TypeAdapter[LedgerCommand] = TypeAdapter(LedgerCommand)
LEDGER_REPORT: TypeAdapter[LedgerReport] = TypeAdapter(LedgerReport)
