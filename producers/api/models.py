"""Request and response bodies of the REST API."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from read_model.documents import TransferSummary, TransferView
from read_model.reviews import Review
from schemas import CancelReason, Language, PurposeOfUse, ReviewReason, ReviewVerdict
from schemas.envelope import OrgId
from schemas.transitions import Action, Role

# Printable text only: no control characters but line breaks (NUL cannot even be stored).
Note = Annotated[
    str, StringConstraints(min_length=1, max_length=2000, pattern=r"^[^\x00-\x09\x0b-\x1f\x7f]+$")
]


class Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CreateTransferRequest(Body):
    patient_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="The patient's identifier at the home organisation; "
        "pseudonymised before anything leaves the server",
    )
    source_org: OrgId
    emergency: bool = False
    purpose: PurposeOfUse = Field(
        description="HL7 v3 PurposeOfUse; ETREAT for an emergency and only for one",
    )
    note: Note | None = Field(
        default=None,
        description="free text (e.g. the emergency's justification), kept encrypted in the "
        "Applications Database and never on the ledger or the bus",
    )

    @model_validator(mode="after")
    def _emergency_is_etreat(self) -> "CreateTransferRequest":
        if self.emergency != (self.purpose is PurposeOfUse.ETREAT):
            raise ValueError("an emergency, and only an emergency, has the purpose ETREAT")
        return self


class CancelRequest(Body):
    reason: CancelReason = CancelReason.NO_LONGER_NEEDED


class VerdictRequest(Body):
    verdict: ReviewVerdict
    reason: ReviewReason


class ReviewList(Body):
    items: list[Review]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null on the last page"
    )


class ConsentRequest(Body):
    decision: Literal["grant", "refuse"]


class PreferencesPatch(Body):
    language: Language


class PasswordChange(Body):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=12, max_length=256)


class Accepted(Body):
    transfer_id: str
    status: Literal["accepted"] = "accepted"


class Profile(Body):
    user_id: str
    username: str
    org: str
    role: Role
    language: Language
    # The notifier's WebSocket address (``WS /v1/notifications``).
    notifications_url: str


class Problem(Body):
    detail: str
    current_state: str | None = None


class TransferPage(Body):
    items: list[TransferSummary]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null on the last page"
    )


class WebConfig(Body):
    authority: str
    client_id: str


class TransferDetail(TransferView):
    """A transfer as its party sees it, with the actions the caller may take on it now."""

    actions: list[Action] = Field(
        description="what the caller may do now, by the transition table and party rules"
    )
    note: str | None = Field(
        default=None,
        description="the requester's note: shown to the requesting organisation's "
        "professionals and the source organisation's data-protection officer",
    )
