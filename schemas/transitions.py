"""The transition table as data: who may move a transfer from which state to which.

The contract (``ledger_gateway.chaincode``) enforces it; the Applications Server and
the processors read it to check an action before publishing. Nobody keeps a copy.
"""

from dataclasses import dataclass
from enum import StrEnum

from schemas.states import TransferState


class Role(StrEnum):
    HEALTH_PROFESSIONAL = "health_professional"
    PATIENT = "patient"
    OPS = "ops"
    DPO = "dpo"  # a data-protection officer of an organisation
    SYSTEM = "system"  # the platform's own processors acting for an organisation


class Party(StrEnum):
    """How an actor relates to a transfer."""

    REQUESTING_ORG = "requesting_org"
    SOURCE_ORG = "source_org"
    PATIENT = "patient"


class Action(StrEnum):
    CREATE = "create"
    ACCEPT_RISK = "accept_risk"
    REJECT_RISK = "reject_risk"
    GRANT_CONSENT = "grant_consent"
    REFUSE_CONSENT = "refuse_consent"
    BYPASS_CONSENT = "bypass_consent"
    DECLARE_AVAILABLE = "declare_available"
    DECLARE_UNAVAILABLE = "declare_unavailable"
    MARK_TRANSFERRED = "mark_transferred"
    MARK_RECEIVED = "mark_received"
    CLOSE = "close"
    REVOKE = "revoke"
    CANCEL = "cancel"
    EXPIRE = "expire"
    # A review of an emergency bypass: recorded on the transfer, never a change of state.
    RECORD_REVIEW_VERDICT = "record_review_verdict"
    FLAG_REVIEW_OVERDUE = "flag_review_overdue"


# Chosen by the contract's risk audit, never by a caller.
AUDIT_ACTIONS: frozenset[Action] = frozenset({Action.ACCEPT_RISK, Action.REJECT_RISK})
# Taken through their own transactions (``schemas.ledger``), outside the transition table.
REVIEW_ACTIONS: frozenset[Action] = frozenset(
    {Action.RECORD_REVIEW_VERDICT, Action.FLAG_REVIEW_OVERDUE}
)


@dataclass(frozen=True, slots=True)
class Rule:
    next_state: TransferState
    roles: frozenset[Role]
    parties: frozenset[Party]


def _rule(next_state: TransferState, role: Role, *parties: Party) -> Rule:
    return Rule(next_state, frozenset({role}), frozenset(parties))


S = TransferState
_BEFORE_TRANSFER: tuple[TransferState, ...] = (
    S.INITIALISED,
    S.RISK_ACCEPTED,
    S.PATIENT_ACCEPTED,
    S.EMERGENCY_BYPASS,
    S.DATA_AVAILABLE,
)

# (current state, action) -> rule. ``None`` is "no transfer yet".
TRANSITIONS: dict[tuple[TransferState | None, Action], Rule] = {
    (None, Action.CREATE): _rule(S.INITIALISED, Role.HEALTH_PROFESSIONAL, Party.REQUESTING_ORG),
    (S.INITIALISED, Action.ACCEPT_RISK): _rule(
        S.RISK_ACCEPTED, Role.SYSTEM, Party.REQUESTING_ORG, Party.SOURCE_ORG
    ),
    (S.INITIALISED, Action.REJECT_RISK): _rule(
        S.RISK_REJECTED, Role.SYSTEM, Party.REQUESTING_ORG, Party.SOURCE_ORG
    ),
    (S.RISK_ACCEPTED, Action.GRANT_CONSENT): _rule(S.PATIENT_ACCEPTED, Role.PATIENT, Party.PATIENT),
    (S.RISK_ACCEPTED, Action.REFUSE_CONSENT): _rule(
        S.PATIENT_REJECTED, Role.PATIENT, Party.PATIENT
    ),
    (S.RISK_ACCEPTED, Action.BYPASS_CONSENT): _rule(
        S.EMERGENCY_BYPASS, Role.SYSTEM, Party.REQUESTING_ORG
    ),
    # Consent time limits run only while consent is awaited (see README, "Deviations").
    (S.RISK_ACCEPTED, Action.EXPIRE): _rule(S.EXPIRED, Role.SYSTEM, Party.SOURCE_ORG),
    **{
        (state, Action.DECLARE_AVAILABLE): _rule(S.DATA_AVAILABLE, Role.SYSTEM, Party.SOURCE_ORG)
        for state in (S.PATIENT_ACCEPTED, S.EMERGENCY_BYPASS)
    },
    **{
        (state, Action.DECLARE_UNAVAILABLE): _rule(
            S.DATA_UNAVAILABLE, Role.SYSTEM, Party.SOURCE_ORG
        )
        for state in (S.PATIENT_ACCEPTED, S.EMERGENCY_BYPASS)
    },
    (S.DATA_AVAILABLE, Action.MARK_TRANSFERRED): _rule(
        S.DATA_TRANSFERRED, Role.HEALTH_PROFESSIONAL, Party.SOURCE_ORG
    ),
    (S.DATA_TRANSFERRED, Action.MARK_RECEIVED): _rule(
        S.DATA_RECEIVED, Role.HEALTH_PROFESSIONAL, Party.REQUESTING_ORG
    ),
    (S.DATA_RECEIVED, Action.CLOSE): _rule(
        S.CLOSED, Role.HEALTH_PROFESSIONAL, Party.REQUESTING_ORG
    ),
    **{
        (state, Action.REVOKE): _rule(S.CONSENT_REVOKED, Role.PATIENT, Party.PATIENT)
        for state in _BEFORE_TRANSFER
    },
    **{
        (state, Action.CANCEL): _rule(S.CANCELLED, Role.HEALTH_PROFESSIONAL, Party.REQUESTING_ORG)
        for state in _BEFORE_TRANSFER
    },
}


def rule_for(state: TransferState | None, action: Action) -> Rule | None:
    """The rule for taking ``action`` from ``state``, or None when the table forbids it."""
    return TRANSITIONS.get((state, action))


def allowed_actions(state: TransferState | None) -> frozenset[Action]:
    return frozenset(action for (from_state, action) in TRANSITIONS if from_state == state)
