"""The contract's rules beyond the table: audit, emergency, expiry, idempotency, indexes."""

from datetime import timedelta

import pytest

from curex.assessments import assessment
from ledger_gateway.chaincode import (
    BY_PATIENT,
    BY_REQUESTING_ORG,
    BY_SOURCE_ORG,
    ConditionNotMet,
    InvalidArgument,
    NotAParty,
)
from schemas import (
    GDPR_VITAL_INTERESTS,
    Action,
    ApplyActionTx,
    AuditRiskTx,
    OrganisationPolicy,
    Party,
    RecordRiskScoreTx,
    Role,
    SetPolicyTx,
    TransferState,
)
from tests.unit.contract_world import PATIENT, REQUESTING, SOURCE, World, actor_for, system

HP_REQ = actor_for(Role.HEALTH_PROFESSIONAL, Party.REQUESTING_ORG)
HP_SRC = actor_for(Role.HEALTH_PROFESSIONAL, Party.SOURCE_ORG)
PAT = actor_for(Role.PATIENT, Party.PATIENT)


def test_normal_transfer_walks_the_whole_path_to_closed() -> None:
    world = World()
    world.seed_orgs()
    world.create("t-normal-1")
    steps = [
        (Action.ACCEPT_RISK, system(REQUESTING), TransferState.RISK_ACCEPTED),
        (Action.GRANT_CONSENT, PAT, TransferState.PATIENT_ACCEPTED),
        (Action.DECLARE_AVAILABLE, system(SOURCE), TransferState.DATA_AVAILABLE),
        (Action.MARK_TRANSFERRED, HP_SRC, TransferState.DATA_TRANSFERRED),
        (Action.MARK_RECEIVED, HP_REQ, TransferState.DATA_RECEIVED),
        (Action.CLOSE, HP_REQ, TransferState.CLOSED),
    ]
    for action, actor, expected in steps:
        result = world.act("t-normal-1", action, actor)
        assert result.transfer is not None
        assert result.transfer.state is expected
    path = [t.to_state for _, t in world.contract.history("t-normal-1")]
    assert path == [TransferState.INITIALISED, *(s for _, _, s in steps)]


def test_risk_audit_records_both_orgs_scores_and_sets_consent_deadline() -> None:
    world = World()
    world.seed_orgs(limit_s=600)
    world.create("t-audit-1")
    result = world.run(system(REQUESTING), AuditRiskTx(transfer_id="t-audit-1"))
    transfer = result.transfer
    assert transfer is not None
    assert {s.org_id for s in transfer.last_transition.risk_scores} == {REQUESTING, SOURCE}
    assert transfer.consent_deadline == world.store.now + timedelta(seconds=600)


def test_risk_rejection_names_the_failing_org_and_score() -> None:
    world = World()
    world.seed_orgs()
    world.run(
        system(SOURCE),
        RecordRiskScoreTx(assessment=assessment(SOURCE, 41, 95)),
    )
    world.create("t-reject-1")
    result = world.run(system(REQUESTING), AuditRiskTx(transfer_id="t-reject-1"))
    assert result.transfer is not None
    assert result.transfer.state is TransferState.RISK_REJECTED
    reason = result.transfer.last_transition.reason or ""
    assert "ES-SERMAS cybersecurity score 41" in reason
    assert REQUESTING not in reason.split(" cybersecurity")[0]


def test_a_missing_risk_assessment_rejects_rather_than_accepts() -> None:
    world = World()
    world.run(
        system(REQUESTING),
        SetPolicyTx(
            policy=OrganisationPolicy(
                org_id=REQUESTING, min_cybersecurity=1, min_privacy=1, consent_time_limit_s=60
            )
        ),
    )
    world.create("t-noscore-1")
    result = world.run(system(REQUESTING), AuditRiskTx(transfer_id="t-noscore-1"))
    assert result.transfer is not None
    assert result.transfer.state is TransferState.RISK_REJECTED


def test_emergency_bypass_records_vital_interests_and_flags_review() -> None:
    world = World()
    world.seed_orgs()
    world.create("t-emerg-1", emergency=True)
    world.act("t-emerg-1", Action.ACCEPT_RISK, system(REQUESTING))
    result = world.act("t-emerg-1", Action.BYPASS_CONSENT, system(REQUESTING))
    transfer = result.transfer
    assert transfer is not None
    assert transfer.state is TransferState.EMERGENCY_BYPASS
    assert transfer.review_required
    assert transfer.legal_basis == GDPR_VITAL_INTERESTS
    assert transfer.last_transition.legal_basis == GDPR_VITAL_INTERESTS


def test_consent_cannot_be_bypassed_without_a_declared_emergency() -> None:
    world = World()
    world.seed_orgs()
    world.create("t-noemerg-1", emergency=False)
    world.act("t-noemerg-1", Action.ACCEPT_RISK, system(REQUESTING))
    with pytest.raises(ConditionNotMet):
        world.act("t-noemerg-1", Action.BYPASS_CONSENT, system(REQUESTING))


def test_expiry_is_refused_before_the_deadline_and_allowed_after() -> None:
    world = World()
    world.seed_orgs(limit_s=30)
    world.create("t-expiry-1")
    world.act("t-expiry-1", Action.ACCEPT_RISK, system(REQUESTING))
    with pytest.raises(ConditionNotMet):
        world.act("t-expiry-1", Action.EXPIRE, system(SOURCE))
    world.store.now += timedelta(seconds=60)
    result = world.act("t-expiry-1", Action.EXPIRE, system(SOURCE))
    assert result.transfer is not None
    assert result.transfer.state is TransferState.EXPIRED


def test_a_replayed_event_id_returns_the_first_result_and_writes_nothing() -> None:
    world = World()
    world.seed_orgs()
    first = world.create("t-idempotent-1")
    world.act("t-idempotent-1", Action.ACCEPT_RISK, system(REQUESTING), event_id="evt-1")
    values_before = dict(world.store.values)
    history_before = world.contract.history("t-idempotent-1")

    replay = world.act("t-idempotent-1", Action.ACCEPT_RISK, system(REQUESTING), event_id="evt-1")

    assert replay.transfer is not None
    assert replay.transfer.state is TransferState.RISK_ACCEPTED
    assert world.store.values == values_before
    assert world.contract.history("t-idempotent-1") == history_before
    assert first.state is TransferState.INITIALISED


def test_audit_and_create_cannot_be_smuggled_through_apply_action() -> None:
    world = World()
    world.seed_orgs()
    world.create("t-smuggle")
    for action in (Action.ACCEPT_RISK, Action.REJECT_RISK, Action.CREATE):
        with pytest.raises(InvalidArgument):
            world.run(system(REQUESTING), ApplyActionTx(transfer_id="t-smuggle", action=action))


def test_an_org_cannot_set_another_orgs_policy_or_scores() -> None:
    world = World()
    with pytest.raises(NotAParty):
        world.run(
            system(REQUESTING),
            SetPolicyTx(
                policy=OrganisationPolicy(
                    org_id=SOURCE, min_cybersecurity=0, min_privacy=0, consent_time_limit_s=60
                )
            ),
        )
    with pytest.raises(NotAParty):
        world.run(
            system(REQUESTING),
            RecordRiskScoreTx(assessment=assessment(SOURCE, 100, 100, source="PAT")),
        )


def test_an_older_assessment_does_not_replace_a_newer_one() -> None:
    world = World()
    world.seed_orgs(cyber=90)
    latest = world.contract.risk_assessment(SOURCE)
    assert latest is not None
    stale = assessment(SOURCE, 5, 5, assessed_at=latest.assessed_at - timedelta(days=1))
    world.run(system(SOURCE), RecordRiskScoreTx(assessment=stale))
    assert world.contract.risk_assessment(SOURCE) == latest


def test_indexes_find_transfers_by_requesting_org_source_org_and_patient() -> None:
    world = World()
    world.seed_orgs()
    world.create("t-index-1")
    world.create("t-index-2")
    assert world.contract.transfer_ids(BY_REQUESTING_ORG, REQUESTING) == ["t-index-1", "t-index-2"]
    assert world.contract.transfer_ids(BY_SOURCE_ORG, SOURCE) == ["t-index-1", "t-index-2"]
    assert world.contract.transfer_ids(BY_PATIENT, PATIENT) == ["t-index-1", "t-index-2"]
    assert world.contract.transfer_ids(BY_SOURCE_ORG, REQUESTING) == []
