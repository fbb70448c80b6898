"""Assessment and safeguard results as the demo, the benches and the tests publish them,
standing in for the CUREX tools (CAT, PAT, OST): each names its report by a digest of a
report the stand-in makes up, as a real tool names the report it keeps."""

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal

from schemas import (
    RiskAssessment,
    SafeguardResult,
    SafeguardState,
    SafeguardStatus,
    utc_now,
)

TOOL_VERSION = "2.3.0"
DEFAULT_VALIDITY = timedelta(days=30)


def report_digest(report: Mapping[str, object]) -> str:
    canonical = json.dumps(report, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def assessment(
    org_id: str,
    cybersecurity: int,
    privacy: int,
    *,
    source: Literal["CAT", "PAT"] = "CAT",
    findings: Sequence[str] = (),
    assessed_at: datetime | None = None,
    valid_until: datetime | None = None,
) -> RiskAssessment:
    """A fresh assessment (new id, new event id), valid for 30 days unless told otherwise."""
    assessed = assessed_at or utc_now()
    assessment_id = f"{source}-{uuid.uuid4().hex[:12]}"
    report = {
        "id": assessment_id,
        "org": org_id,
        "scores": [cybersecurity, privacy],
        "findings": list(findings),
        "at": assessed,
    }
    return RiskAssessment(
        org_id=org_id,
        assessment_id=assessment_id,
        cybersecurity_score=cybersecurity,
        privacy_score=privacy,
        source=source,
        tool_version=TOOL_VERSION,
        findings=tuple(findings),
        report_digest=report_digest(report),
        assessed_at=assessed,
        valid_until=valid_until or assessed + DEFAULT_VALIDITY,
    )


def safeguards(
    org_id: str,
    statuses: Mapping[str, SafeguardStatus],
    *,
    assessed_at: datetime | None = None,
) -> SafeguardResult:
    """A fresh OST result declaring ``statuses`` (safeguard code -> status)."""
    assessed = assessed_at or utc_now()
    states = tuple(SafeguardState(code=code, status=status) for code, status in statuses.items())
    report = {"org": org_id, "safeguards": dict(statuses), "at": assessed}
    return SafeguardResult(
        org_id=org_id,
        tool_version=TOOL_VERSION,
        safeguards=states,
        report_digest=report_digest(report),
        assessed_at=assessed,
    )
