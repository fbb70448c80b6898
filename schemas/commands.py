"""Commands from health professionals (HPA) and patients (PA), as put on Kafka."""

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from schemas.actors import Actor
from schemas.envelope import Envelope, OrgId, PatientPseudonym, ShortText, TransferId
from schemas.transitions import Action


class TransferCommand(Envelope):
    transfer_id: TransferId
    actor: Actor


class CreateTransfer(TransferCommand):
    type: Literal["create_transfer"] = "create_transfer"
    source_org: OrgId
    patient_pseudonym: PatientPseudonym
    emergency: bool = False
    reason: ShortText


class CancelTransfer(TransferCommand):
    type: Literal["cancel_transfer"] = "cancel_transfer"
    reason: ShortText | None = None


class MarkTransferred(TransferCommand):
    type: Literal["mark_transferred"] = "mark_transferred"


class MarkReceived(TransferCommand):
    type: Literal["mark_received"] = "mark_received"


class CloseTransfer(TransferCommand):
    type: Literal["close_transfer"] = "close_transfer"


TransferRequest = Annotated[
    CreateTransfer | CancelTransfer | MarkTransferred | MarkReceived | CloseTransfer,
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
