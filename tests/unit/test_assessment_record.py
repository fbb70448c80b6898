"""The assessment record on the ledger (pure contract): scores that explain themselves and
expire, and safeguard declarations an auditor can read as they stood at any time."""

from datetime import timedelta

import pytest

from curex.assessments import assessment, safeguards
from ledger_gateway.chaincode import InvalidArgument, NotAParty
from schemas import (
    AuditRiskTx,
    RecordRiskScoreTx,
    RecordSafeguardsTx,
    RiskAssessmentV1,
    SafeguardStatus,
    TransferState,
)
from tests.unit.contract_world import REQUESTING, SOURCE, World, system

DONE, PLANNED, DECLINED = (
    SafeguardStatus.IMPLEMENTED,
    SafeguardStatus.PLANNED,
    SafeguardStatus.DECLINED,
)


def _record_score(world: World, org: str, **fields: object) -> str:
    score = assessment(org, 90, 90, **fields)  # type: ignore[arg-type]
    world.run(system(org), RecordRiskScoreTx(assessment=score))
    return score.assessment_id


def _audit(world: World, transfer_id: str) -> tuple[TransferState, str, set[str | None]]:
    world.create(transfer_id)
    transfer = world.run(system(REQUESTING), AuditRiskTx(transfer_id=transfer_id)).transfer
    assert transfer is not None
    move = transfer.last_transition
    return transfer.state, move.reason or "", {s.assessment_id for s in move.risk_scores}


def test_a_score_expired_a_second_ago_rejects_and_says_so() -> None:
    world = World()
    world.seed_orgs()
    now = world.store.now
    # Newer than the seeded scores (the latest by assessment time counts), expired already.
    expired = _record_score(
        world,
        SOURCE,
        assessed_at=now - timedelta(seconds=2),
        valid_until=now - timedelta(seconds=1),
    )
    state, reason, used = _audit(world, "t-expired-01")
    assert state is TransferState.RISK_REJECTED
    assert f"{SOURCE}'s risk assessment {expired} expired at" in reason
    assert expired in used


def test_a_score_still_valid_when_audited_accepts_and_names_both_assessments() -> None:
    world = World()
    world.seed_orgs()
    now = world.store.now
    # Valid for a minute after it is recorded: the audit, seconds later, may use it.
    source_id = _record_score(
        world, SOURCE, assessed_at=now, valid_until=now + timedelta(minutes=1)
    )
    requesting_id = _record_score(world, REQUESTING)
    state, _, used = _audit(world, "t-valid-001")
    assert state is TransferState.RISK_ACCEPTED
    assert used == {source_id, requesting_id}


def test_a_score_that_expires_between_recording_and_audit_rejects() -> None:
    world = World()
    world.seed_orgs()
    now = world.store.now
    # Each transaction of the world is a second later than the one before.
    _record_score(
        world, SOURCE, assessed_at=now, valid_until=now + timedelta(seconds=1, microseconds=500_000)
    )
    state, reason, _ = _audit(world, "t-lapsed-01")
    assert state is TransferState.RISK_REJECTED
    assert "expired at" in reason


def test_a_rejection_for_low_scores_also_names_the_assessments_used() -> None:
    world = World()
    world.seed_orgs()
    low = assessment(SOURCE, 10, 10, findings=("MFA-MISSING",))
    world.run(system(SOURCE), RecordRiskScoreTx(assessment=low))
    state, _, used = _audit(world, "t-low-0001")
    assert state is TransferState.RISK_REJECTED
    assert low.assessment_id in used


def test_a_first_form_score_is_refused_and_one_already_recorded_counts_as_expired() -> None:
    world = World()
    world.seed_orgs()
    legacy = RiskAssessmentV1(org_id=SOURCE, cybersecurity_score=99, privacy_score=99, source="CAT")
    with pytest.raises(InvalidArgument, match="validity"):
        world.run(system(SOURCE), RecordRiskScoreTx(assessment=legacy))
    # A ledger from before this change holds such a score as the organisation's latest.
    world.store.begin()
    world.store.put_state("\x00risk\x00" + SOURCE + "\x00", legacy.model_dump_json().encode())
    world.store.commit()
    state, reason, used = _audit(world, "t-legacy-01")
    assert state is TransferState.RISK_REJECTED
    assert f"{SOURCE}'s risk assessment states no validity period" in reason
    assert None in used


def test_safeguards_as_declared_at_three_times_by_the_ledgers_clock() -> None:
    world = World()
    world.seed_orgs()
    before = world.store.now
    first = safeguards(SOURCE, {"ISO27001-A.8.24": PLANNED, "NIS2-21.2.J": DECLINED})
    world.run(system(SOURCE), RecordSafeguardsTx(result=first))
    t1 = world.store.now
    world.store.begin(advance=timedelta(hours=1))
    world.store.commit()
    second = safeguards(SOURCE, {"ISO27001-A.8.24": DONE, "NIS2-21.2.J": DECLINED})
    world.run(system(SOURCE), RecordSafeguardsTx(result=second))
    t2 = world.store.now
    world.store.begin(advance=timedelta(hours=1))
    world.store.commit()
    third = safeguards(SOURCE, {"ISO27001-A.8.24": DONE, "NIS2-21.2.J": DONE})
    world.run(system(SOURCE), RecordSafeguardsTx(result=third))
    t3 = world.store.now

    assert world.contract.safeguard_audit(SOURCE, before).declaration is None
    for at, declared in ((t1, first), (t2, second), (t3, third)):
        for when in (at, at + timedelta(minutes=30)):
            found = world.contract.safeguard_audit(SOURCE, when).declaration
            assert found is not None
            assert found.safeguards == declared.safeguards
            assert found.report_digest == declared.report_digest
    assert world.contract.safeguard_audit(REQUESTING, t3).declaration is None


def test_a_backdated_safeguard_result_does_not_rewrite_what_was_declared() -> None:
    world = World()
    world.seed_orgs()
    honest = safeguards(SOURCE, {"ISO27001-A.8.24": DECLINED})
    world.run(system(SOURCE), RecordSafeguardsTx(result=honest))
    declared_at = world.store.now
    backdated = safeguards(
        SOURCE, {"ISO27001-A.8.24": DONE}, assessed_at=declared_at - timedelta(days=30)
    )
    world.run(system(SOURCE), RecordSafeguardsTx(result=backdated))
    for at in (declared_at, world.store.now):
        found = world.contract.safeguard_audit(SOURCE, at).declaration
        assert found is not None
        assert found.safeguards == honest.safeguards


def test_only_the_organisations_own_system_records_its_safeguards() -> None:
    world = World()
    with pytest.raises(NotAParty):
        world.run(system(REQUESTING), RecordSafeguardsTx(result=safeguards(SOURCE, {"X-1": DONE})))


def test_the_audit_lists_the_transfers_an_organisation_took_part_in_since() -> None:
    world = World()
    world.seed_orgs()
    world.create("t-before-1")
    world.store.begin(advance=timedelta(hours=1))
    world.store.commit()
    cutoff = world.store.now
    world.create("t-after-01")
    for org, role in ((SOURCE, "source"), (REQUESTING, "requesting")):
        touched = world.contract.safeguard_audit(org, cutoff).transfers
        assert [(t.transfer_id, t.role) for t in touched] == [("t-after-01", role)]
