"""The envelope every message on every topic carries."""

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

OrgId = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}-[A-Z0-9-]{1,30}$")]
# A keyed hash (HMAC-SHA256, hex) of the patient's identifier at the home organisation.
# Only this form is accepted, so a raw identifier cannot reach Kafka or the ledger.
PatientPseudonym = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
TransferId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Message(BaseModel):
    """Frozen, strict base for every payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Envelope(Message):
    schema_version: int = 1
    event_id: UUID = Field(default_factory=uuid4)
    correlation_id: str = Field(min_length=1, max_length=64)
    occurred_at: AwareDatetime = Field(default_factory=utc_now)
