"""Request and response bodies of the REST API."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from read_model.documents import TransferSummary, TransferView
from schemas import Language
from schemas.envelope import OrgId, ShortText
from schemas.transitions import Action, Role


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
    # Printable text only: no control characters (NUL cannot even be stored).
    reason: Annotated[ShortText, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]+$")]


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
