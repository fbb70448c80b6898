"""The optimal-safeguards tool's (OST) results, as the ledger records them for audits.

A result is an organisation's whole declaration at one time: every safeguard it was
advised, as a code, and whether it is implemented, planned or declined. Only codes: the
full report stays with the tool, named by its digest.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self
from uuid import UUID, uuid4

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from schemas.envelope import Message, OrgId, TransferId, utc_now
from schemas.risk import ReportDigest, ToolVersion
from schemas.states import TransferState

SafeguardCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_.-]{1,39}$")]
MAX_SAFEGUARDS = 200


class SafeguardStatus(StrEnum):
    IMPLEMENTED = "implemented"
    PLANNED = "planned"
    DECLINED = "declined"


class SafeguardState(Message):
    code: SafeguardCode
    status: SafeguardStatus


class SafeguardResult(Message):
    """One result of the OST for one organisation, keyed by it on its own topic."""

    schema_version: Literal[1] = 1
    event_id: UUID = Field(default_factory=uuid4)
    org_id: OrgId
    tool: Literal["OST"] = "OST"
    tool_version: ToolVersion
    safeguards: tuple[SafeguardState, ...] = Field(min_length=1, max_length=MAX_SAFEGUARDS)
    report_digest: ReportDigest
    assessed_at: AwareDatetime = Field(default_factory=utc_now)

    @model_validator(mode="after")
    def _one_status_per_safeguard(self) -> Self:
        codes = [s.code for s in self.safeguards]
        if len(set(codes)) != len(codes):
            raise ValueError("a safeguard code appears twice")
        return self


class SafeguardDeclaration(Message):
    """A result as the ledger recorded it: by which transaction, at the ledger's time.

    ``safeguards`` may be a selection of the result's (an audit of one safeguard)."""

    tx_id: str
    recorded_at: AwareDatetime
    tool_version: ToolVersion
    report_digest: ReportDigest
    assessed_at: AwareDatetime
    safeguards: tuple[SafeguardState, ...]

    @classmethod
    def of(cls, result: SafeguardResult, tx_id: str, recorded_at: datetime) -> Self:
        return cls(
            tx_id=tx_id,
            recorded_at=recorded_at,
            tool_version=result.tool_version,
            report_digest=result.report_digest,
            assessed_at=result.assessed_at,
            safeguards=result.safeguards,
        )


class TransferTouch(Message):
    """A transfer an organisation took part in, as an audit lists it: no patient, no people."""

    transfer_id: TransferId
    role: Literal["requesting", "source"]
    state: TransferState
    created_at: AwareDatetime
    updated_at: AwareDatetime


class SafeguardAudit(Message):
    """What ``org_id`` had declared at ``at`` (None: nothing yet), and the transfers it took
    part in since (a transition at or after ``at``), oldest first."""

    org_id: OrgId
    at: AwareDatetime
    declaration: SafeguardDeclaration | None
    transfers: tuple[TransferTouch, ...]
