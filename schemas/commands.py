"""Commands from health professionals (HPA) and patients (PA), as put on Kafka."""

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter, model_validator

from schemas.actors import Actor
from schemas.codes import (
    CancelReason,
    PurposeOfUse,
    ReviewReason,
    ReviewVerdict,
    upcast_free_text_reason,
)
from schemas.envelope import Envelope, OrgId, PatientPseudonym, TransferId
from schemas.transitions import Action


class TransferCommand(Envelope):
    transfer_id: TransferId
    actor: Actor


class CreateTransfer(TransferCommand):
    """Version 2: a coded purpose of use; version 1's free-text reason is upcast on read."""

    schema_version: int = 2
    type: Literal["create_transfer"] = "create_transfer"
    source_org: OrgId
    patient_pseudonym: PatientPseudonym
    emergency: bool = False
    purpose: PurposeOfUse

    _upcast = model_validator(mode="before")(upcast_free_text_reason)


class CancelTransfer(TransferCommand):
    """Version 2: a coded reason; version 1's free text is read as ``OTHER``."""

    schema_version: int = 2
    type: Literal["cancel_transfer"] = "cancel_transfer"
    reason: CancelReason | None = None

    @model_validator(mode="before")
    @classmethod
    def _upcast(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("schema_version") == 1 and data.get("reason"):
            data = {**data, "reason": CancelReason.OTHER}
        return data


class MarkTransferred(TransferCommand):
    type: Literal["mark_transferred"] = "mark_transferred"


class MarkReceived(TransferCommand):
    type: Literal["mark_received"] = "mark_received"


class CloseTransfer(TransferCommand):
    type: Literal["close_transfer"] = "close_transfer"


class RecordReviewVerdict(TransferCommand):
    """A data-protection officer of the source organisation judges an emergency bypass."""

    type: Literal["record_review_verdict"] = "record_review_verdict"
    verdict: ReviewVerdict
    reason: ReviewReason


TransferRequest = Annotated[
    CreateTransfer
    | CancelTransfer
    | MarkTransferred
    | MarkReceived
    | CloseTransfer
    | RecordReviewVerdict,
    Field(discriminator="type"),
]


class GrantConsent(TransferCommand):
    type: Literal["grant_consent"] = "grant_consent"


class RefuseConsent(TransferCommand):
    type: Literal["refuse_consent"] = "refuse_consent"


class RevokeConsent(TransferCommand):
    type: Literal["revoke_consent"] = "revoke_consent"


ConsentDecision = Annotated[
    GrantConsent | RefuseConsent | RevokeConsent, Field(discriminator="type")
]

TRANSFER_REQUEST: TypeAdapter[TransferRequest] = TypeAdapter(TransferRequest)
CONSENT_DECISION: TypeAdapter[ConsentDecision] = TypeAdapter(ConsentDecision)

# The command a person sends to take an action on an existing transfer.
ACTION_COMMANDS: dict[Action, type[TransferCommand]] = {
    Action.CANCEL: CancelTransfer,
    Action.MARK_TRANSFERRED: MarkTransferred,
    Action.MARK_RECEIVED: MarkReceived,
    Action.CLOSE: CloseTransfer,
    Action.GRANT_CONSENT: GrantConsent,
    Action.REFUSE_CONSENT: RefuseConsent,
    Action.REVOKE: RevokeConsent,
}
