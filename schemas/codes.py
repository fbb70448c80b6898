"""Coded values the ledger records instead of free text: the purpose of use, why a transfer
was cancelled, and a data-protection officer's verdict on an emergency bypass.

The ledger is immutable and every member reads it, so it holds codes only; a person's own
words (a note) stay in the Applications Database.
"""

from enum import StrEnum
from typing import Annotated, Any

from pydantic import StringConstraints

# A code a system step records as its reason (``CONSENT_TIME_LIMIT``): never free text.
ReasonCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{1,47}$")]


class PurposeOfUse(StrEnum):
    """HL7 v3 ``PurposeOfUse`` (2.16.840.1.113883.1.11.20448), the codes this exchange serves."""

    TREAT = "TREAT"  # treatment
    ETREAT = "ETREAT"  # emergency treatment
    CAREMGT = "CAREMGT"  # care management
    COC = "COC"  # coordination of care
    PATRQT = "PATRQT"  # patient requested


class CancelReason(StrEnum):
    NO_LONGER_NEEDED = "NO_LONGER_NEEDED"
    ENTERED_IN_ERROR = "ENTERED_IN_ERROR"
    DUPLICATE_REQUEST = "DUPLICATE_REQUEST"
    PATIENT_DISCHARGED = "PATIENT_DISCHARGED"
    OTHER = "OTHER"


class ReviewVerdict(StrEnum):
    JUSTIFIED = "justified"
    UNJUSTIFIED = "unjustified"


class ReviewReason(StrEnum):
    """Why an officer judged an emergency bypass as they did."""

    VITAL_INTERESTS_AT_RISK = "VITAL_INTERESTS_AT_RISK"
    PATIENT_UNABLE_TO_CONSENT = "PATIENT_UNABLE_TO_CONSENT"
    CONSENT_NOT_OBTAINABLE_IN_TIME = "CONSENT_NOT_OBTAINABLE_IN_TIME"
    NOT_AN_EMERGENCY = "NOT_AN_EMERGENCY"
    CONSENT_WAS_OBTAINABLE = "CONSENT_WAS_OBTAINABLE"
    ACCESS_EXCEEDED_NEED = "ACCESS_EXCEEDED_NEED"


def purpose_for(emergency: bool) -> PurposeOfUse:
    """The purpose a record written before purposes were coded is read as."""
    return PurposeOfUse.ETREAT if emergency else PurposeOfUse.TREAT


def upcast_free_text_reason(data: Any) -> Any:
    """A create (command, transaction or transfer) of schema version 1 carried a free-text
    ``reason``; read it as the coded purpose of its kind and leave the text behind."""
    if isinstance(data, dict) and "reason" in data and "purpose" not in data:
        data = {key: value for key, value in data.items() if key != "reason"}
        data["purpose"] = purpose_for(bool(data.get("emergency", False)))
    return data
