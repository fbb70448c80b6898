"""The risk audit decision: both organisations' latest scores against both policies."""

from dataclasses import dataclass
from datetime import datetime

from schemas import OrganisationPolicy, RecordedAssessment, RiskAssessment


@dataclass(frozen=True, slots=True)
class AuditDecision:
    accepted: bool
    reason: str


def audit(
    policies: dict[str, OrganisationPolicy | None],
    scores: dict[str, RecordedAssessment | None],
    now: datetime,
) -> AuditDecision:
    """Accept only when every party's unexpired scores meet every party's thresholds.

    A missing policy or assessment rejects: the audit cannot vouch for what it cannot see;
    nor for an assessment past its validity, or one that never stated a validity.
    """
    for org, policy in sorted(policies.items()):
        if policy is None:
            return AuditDecision(False, f"no risk policy registered for {org}")
    for org, score in sorted(scores.items()):
        if score is None:
            return AuditDecision(False, f"no risk assessment recorded for {org}")
    stale = _stale(scores, now)
    if stale:
        return AuditDecision(False, "; ".join(stale))
    failures: list[str] = []
    for org, score in sorted(scores.items()):
        assert score is not None
        for policy_org, policy in sorted(policies.items()):
            assert policy is not None
            if score.cybersecurity_score < policy.min_cybersecurity:
                failures.append(
                    f"{org} cybersecurity score {score.cybersecurity_score} is below "
                    f"{policy_org}'s minimum {policy.min_cybersecurity}"
                )
            if score.privacy_score < policy.min_privacy:
                failures.append(
                    f"{org} privacy score {score.privacy_score} is below "
                    f"{policy_org}'s minimum {policy.min_privacy}"
                )
    if failures:
        return AuditDecision(False, "; ".join(failures))
    summary = ", ".join(
        f"{org} cyber {s.cybersecurity_score} privacy {s.privacy_score}"
        for org, s in sorted(scores.items())
        if s is not None
    )
    return AuditDecision(True, f"both organisations meet both policies ({summary})")


def _stale(scores: dict[str, RecordedAssessment | None], now: datetime) -> list[str]:
    stale: list[str] = []
    for org, score in sorted(scores.items()):
        if not isinstance(score, RiskAssessment):
            stale.append(f"{org}'s risk assessment states no validity period")
        elif score.expired(now):
            stale.append(
                f"{org}'s risk assessment {score.assessment_id} expired at "
                f"{score.valid_until.isoformat()}"
            )
    return stale
