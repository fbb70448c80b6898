"""Create and emergency limits: per user, per organisation, refusing without counting."""

import pytest

from producers.api.rate_limits import CreateLimits
from producers.errors import RateLimited
from schemas import Actor, Role


def doctor(name: str, org: str = "SE-KI") -> Actor:
    return Actor(user_id=name, org=org, role=Role.HEALTH_PROFESSIONAL)


async def test_the_eleventh_emergency_of_a_day_is_refused_with_a_retry_time() -> None:
    limits = CreateLimits("1000/minute", "1000/minute", "10/day")
    for _ in range(10):
        await limits.admit(doctor("a"), emergency=True)
    with pytest.raises(RateLimited) as refused:
        await limits.admit(doctor("a"), emergency=True)
    assert 0 < refused.value.retry_after_s <= 86_400
    await limits.admit(doctor("a"), emergency=False)  # ordinary requests still pass
    await limits.admit(doctor("b"), emergency=True)  # and other professionals' emergencies


async def test_an_organisation_limit_holds_across_its_professionals() -> None:
    limits = CreateLimits("1000/minute", "3/minute", "1000/day")
    for name in ("a", "b", "c"):
        await limits.admit(doctor(name), emergency=False)
    with pytest.raises(RateLimited):
        await limits.admit(doctor("d"), emergency=False)
    await limits.admit(doctor("e", org="ES-SERMAS"), emergency=False)


async def test_a_refused_create_counts_against_no_window() -> None:
    limits = CreateLimits("2/minute", "1000/minute", "1/day")
    await limits.admit(doctor("a"), emergency=True)
    with pytest.raises(RateLimited):
        await limits.admit(doctor("a"), emergency=True)  # the emergency window is full
    await limits.admit(doctor("a"), emergency=False)  # the refusal did not use the user's
