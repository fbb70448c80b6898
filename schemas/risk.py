"""Risk assessment results and organisation policies."""

from typing import Literal
from uuid import UUID, uuid4

from pydantic import AwareDatetime, Field

from schemas.envelope import Message, OrgId, utc_now


class RiskAssessment(Message):
    """A result of the CUREX risk assessment tools (CAT: cybersecurity, PAT: privacy).

    Keyed by organisation on a compacted topic; higher scores are safer. Carries no
    correlation id of a transfer, so it is not an ``Envelope``.
    """

    schema_version: Literal[1] = 1
    event_id: UUID = Field(default_factory=uuid4)
    org_id: OrgId
    cybersecurity_score: int = Field(ge=0, le=100)
    privacy_score: int = Field(ge=0, le=100)
    source: Literal["CAT", "PAT"]
    assessed_at: AwareDatetime = Field(default_factory=utc_now)


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
