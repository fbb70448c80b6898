"""The states a transfer moves through on the ledger."""

from enum import StrEnum


class TransferState(StrEnum):
    INITIALISED = "INITIALISED"
    RISK_ACCEPTED = "RISK_ACCEPTED"
    RISK_REJECTED = "RISK_REJECTED"
    PATIENT_ACCEPTED = "PATIENT_ACCEPTED"
    PATIENT_REJECTED = "PATIENT_REJECTED"
    EMERGENCY_BYPASS = "EMERGENCY_BYPASS"
    DATA_AVAILABLE = "DATA_AVAILABLE"
    DATA_UNAVAILABLE = "DATA_UNAVAILABLE"
    DATA_TRANSFERRED = "DATA_TRANSFERRED"
    DATA_RECEIVED = "DATA_RECEIVED"
    CLOSED = "CLOSED"
    CONSENT_REVOKED = "CONSENT_REVOKED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


FINAL_STATES: frozenset[TransferState] = frozenset(
    {
        TransferState.RISK_REJECTED,
        TransferState.PATIENT_REJECTED,
        TransferState.DATA_UNAVAILABLE,
        TransferState.CLOSED,
        TransferState.CONSENT_REVOKED,
        TransferState.CANCELLED,
        TransferState.EXPIRED,
    }
)
