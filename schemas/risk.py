"""Risk assessment results and organisation policies."""

from datetime import datetime
from typing import Annotated, Literal, Self
from uuid import UUID, uuid4

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from schemas.envelope import Message, OrgId, utc_now

# Codes only, never free text: what reaches the ledger must say nothing about a person.
AssessmentId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
FindingCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_.-]{1,39}$")]
ToolVersion = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z.+-]{0,31}$")]
# The SHA-256 of the full report, which only the tool keeps.
ReportDigest = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]
MAX_FINDINGS = 10


class RiskAssessmentV1(Message):
    """The first form of a score: two numbers that never expire.

    Still read from ledgers that recorded it; the contract records no new one and an
    audit treats it as expired.
    """

    schema_version: Literal[1] = 1
    event_id: UUID = Field(default_factory=uuid4)
    org_id: OrgId
    cybersecurity_score: int = Field(ge=0, le=100)
    privacy_score: int = Field(ge=0, le=100)
    source: Literal["CAT", "PAT"]
    assessed_at: AwareDatetime = Field(default_factory=utc_now)


class RiskAssessment(Message):
    """A result of the CUREX risk assessment tools (CAT: cybersecurity, PAT: privacy).

    Keyed by organisation on the organisation's own topic; higher scores are safer. It
    explains itself (the assessment's id, the tool's version, the top contributing
    findings as codes, the digest of the full report) and is valid only until
    ``valid_until``. Carries no correlation id of a transfer, so it is not an ``Envelope``.
    """

    schema_version: Literal[2] = 2
    event_id: UUID = Field(default_factory=uuid4)
    org_id: OrgId
    assessment_id: AssessmentId
    cybersecurity_score: int = Field(ge=0, le=100)
    privacy_score: int = Field(ge=0, le=100)
    source: Literal["CAT", "PAT"]
    tool_version: ToolVersion
    findings: tuple[FindingCode, ...] = Field(default=(), max_length=MAX_FINDINGS)
    report_digest: ReportDigest
    assessed_at: AwareDatetime = Field(default_factory=utc_now)
    valid_until: AwareDatetime

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.valid_until <= self.assessed_at:
            raise ValueError("valid_until must be after assessed_at")
        if len(set(self.findings)) != len(self.findings):
            raise ValueError("findings must not repeat a code")
        return self

    def expired(self, now: datetime) -> bool:
        return now >= self.valid_until


# What a ledger may hold: today's form, or the first one recorded before it.
RecordedAssessment = Annotated[
    RiskAssessment | RiskAssessmentV1, Field(discriminator="schema_version")
]


class OrganisationPolicy(Message):
    """Thresholds BOTH parties to a transfer must meet, the consent time limit, the time its
    data-protection officer has to review an emergency bypass, and how many emergencies one
    of its professionals may declare per day (None: no limit on the ledger)."""

    org_id: OrgId
    min_cybersecurity: int = Field(ge=0, le=100)
    min_privacy: int = Field(ge=0, le=100)
    consent_time_limit_s: int = Field(gt=0, le=90 * 24 * 3600)
    review_time_limit_s: int = Field(default=7 * 24 * 3600, gt=0, le=90 * 24 * 3600)
    emergencies_per_professional_per_day: int | None = Field(default=None, ge=0)
