"""Reviewed break-glass end to end, on whichever ledger the stack runs: an emergency bypass
tells the patient at once and opens a review for the source organisation's data-protection
officer, whose verdict is a ledger transaction in the transfer's history; an undecided
review becomes overdue; the organisation's policy on the ledger limits a professional's
emergencies per day."""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from curex.block_watch import BlockWatcher, reached
from curex.demo import seed_demo_organisations
from infra.settings import InfraSettings
from processors.intake import system_actor
from producers.publisher import CommandPublisher
from schemas import (
    CommandRejected,
    LedgerReport,
    OrganisationPolicy,
    TransactionCommitted,
    TransferState,
)
from tests.conftest import SessionWorld
from tests.e2e.notification_client import NotificationClient
from tests.e2e.rest import WS_NOTIFICATIONS, Api, user_token

pytestmark = pytest.mark.integration
S = TransferState
VERDICT = {"verdict": "justified", "reason": "PATIENT_UNABLE_TO_CONSENT"}


@pytest.fixture(scope="module")
async def seeded(stack: InfraSettings, publisher: CommandPublisher, watcher: BlockWatcher) -> None:
    await seed_demo_organisations(publisher, watcher)


@pytest.fixture
async def officer(seeded: None) -> AsyncIterator[Api]:
    api = Api(await user_token("dpo.sermas"))
    yield api
    await api.close()


@pytest.fixture
async def doctor(seeded: None) -> AsyncIterator[Api]:
    api = Api(await user_token("doctor.ki"))
    yield api
    await api.close()


async def review_of(officer: Api, transfer_id: str) -> dict[str, Any] | None:
    """The transfer's review in the officer's list of open reviews, paging to the end."""
    cursor: str | None = None
    while True:
        params = {"status": "open", "limit": "100", **({"cursor": cursor} if cursor else {})}
        response = await officer.http.get("/v1/reviews", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        for review in page["items"]:
            if review["transfer_id"] == transfer_id:
                found: dict[str, Any] = review
                return found
        cursor = page["next_cursor"]
        if cursor is None:
            return None


async def test_an_emergency_is_told_to_the_patient_and_judged_by_the_officer_on_the_ledger(
    doctor: Api, officer: Api
) -> None:
    patient = NotificationClient(await user_token("patient.es"))
    await patient.connect(WS_NOTIFICATIONS)
    try:
        note = "unconscious on arrival, suspected stroke"
        tid = await doctor.create(emergency=True, note=note)
        await patient.until(lambda c: S.EMERGENCY_BYPASS in c.states(tid))
    finally:
        await patient.close()
    await doctor.wait_state(tid, S.EMERGENCY_BYPASS)

    review = await review_of(officer, tid)
    assert review is not None
    assert (review["requested_by"], review["purpose"], review["note"]) == (
        "doctor.ki",
        "ETREAT",
        note,
    )
    assert review["verdict"] is None
    assert review["deadline"] is not None

    # Only the officer may judge, and only once.
    assert (await doctor.post(f"/v1/reviews/{tid}", VERDICT)).status_code == 403
    assert (await doctor.http.get("/v1/reviews")).status_code == 403
    bad = {"verdict": "justified", "reason": "he looked fine to me"}
    assert (await officer.post(f"/v1/reviews/{tid}", bad)).status_code == 422
    assert (await officer.post(f"/v1/reviews/{tid}", VERDICT)).status_code == 202
    judged = await officer.wait_until(tid, lambda t: t["review_verdict"] == "justified")
    assert judged["review_reason"] == "PATIENT_UNABLE_TO_CONSENT"
    assert judged["note"] == note  # the source organisation's officer reads the note
    assert (await officer.post(f"/v1/reviews/{tid}", VERDICT)).status_code == 409

    history = await officer.history(tid)
    [entry] = [e for e in history if e["action"] == "record_review_verdict"]
    assert (entry["actor"]["user_id"], entry["actor"]["role"]) == ("dpo.sermas", "dpo")
    assert entry["reason"] == "PATIENT_UNABLE_TO_CONSENT"
    # On the ledger itself, as the source organisation's Blockchain API reads it.
    record = await officer.ledger_record(tid)
    assert record["transfer"]["review_verdict"] == "justified"
    assert any(
        item["transition"]["action"] == "record_review_verdict" and item["tx_id"] == entry["tx_id"]
        for item in record["history"]
    )
    # The ledger holds the purpose code only: the note is nowhere in its record.
    assert note not in str(record)


async def test_an_officer_judges_only_their_own_organisations_reviews(
    doctor: Api, officer: Api
) -> None:
    tid = await doctor.create(emergency=True)
    await doctor.wait_state(tid, S.EMERGENCY_BYPASS)
    async with Api(await user_token("doctor.sermas")) as colleague:
        # A professional of the source organisation is no officer.
        assert (await colleague.post(f"/v1/reviews/{tid}", VERDICT)).status_code == 403
        # A request to SE-KI: ES-SERMAS's officer has nothing to review there.
        ki_tid = await colleague.create(emergency=True, patient_id="SE-2000002", source_org="SE-KI")
        await colleague.wait_state(ki_tid, S.EMERGENCY_BYPASS)
    assert (await officer.post(f"/v1/reviews/{ki_tid}", VERDICT)).status_code == 404
    assert await review_of(officer, ki_tid) is None


async def test_an_undecided_review_becomes_overdue(
    publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    create = world.create(emergency=True, source=world.source_fast_expiry)
    await publisher.publish_and_wait(create)

    def overdue(reports: list[LedgerReport]) -> bool:
        return any(
            isinstance(r, TransactionCommitted)
            and r.result.transfer is not None
            and r.result.transfer.review_overdue
            for r in reports
        )

    await watcher.wait_until([create.transfer_id], overdue, within=60)
    flagged = next(
        r.result.transfer
        for r in watcher.committed(create.transfer_id)
        if r.result.transfer is not None and r.result.transfer.review_overdue
    )
    assert flagged.review_verdict is None
    assert flagged.last_transition.reason == "REVIEW_TIME_LIMIT"
    assert flagged.last_transition.actor == system_actor(world.source_fast_expiry)


async def test_emergencies_over_the_organisations_daily_limit_are_refused_by_the_ledger(
    publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    policy = OrganisationPolicy(
        org_id=world.requesting,
        min_cybersecurity=60,
        min_privacy=60,
        consent_time_limit_s=3600,
        emergencies_per_professional_per_day=0,
    )
    await publisher.publish_policy(policy, system_actor(world.requesting))
    try:
        await watcher.wait_until(
            [world.requesting],
            lambda reports: any(
                isinstance(r, TransactionCommitted) and r.result.policy == policy for r in reports
            ),
            within=60,
        )
        refused = world.create(emergency=True)
        await publisher.publish_and_wait(refused)
        await watcher.wait_until(
            [refused.transfer_id],
            lambda reports: any(isinstance(r, CommandRejected) for r in reports),
            within=60,
        )
        [rejection] = watcher.reports[refused.transfer_id]
        assert isinstance(rejection, CommandRejected)
        assert rejection.code == "EMERGENCY_LIMIT"
        # A request that is no emergency is not counted against the limit.
        normal = world.create(emergency=False)
        await publisher.publish_and_wait(normal)
        await watcher.wait_until([normal.transfer_id], reached(S.RISK_ACCEPTED), within=60)
    finally:
        unlimited = policy.model_copy(update={"emergencies_per_professional_per_day": None})
        await publisher.publish_policy(unlimited, system_actor(world.requesting))
        await watcher.wait_until(
            [world.requesting],
            lambda reports: any(
                isinstance(r, TransactionCommitted) and r.result.policy == unlimited
                for r in reports
            ),
            within=60,
        )
