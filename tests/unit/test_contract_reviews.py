"""Reviewed break-glass in the contract: an emergency bypass opens a review, the source
organisation's officer records a verdict on the ledger, an undecided review becomes
overdue, a professional's emergencies are limited per day, and purposes are codes."""

from datetime import timedelta

import pytest

from ledger_gateway.chaincode.errors import (
    ConditionNotMet,
    EmergencyLimitReached,
    InvalidArgument,
    NotAParty,
    RoleNotAllowed,
)
from schemas import (
    Action,
    Actor,
    ApplyActionTx,
    CreateTransferTx,
    FlagReviewOverdueTx,
    OrganisationPolicy,
    PurposeOfUse,
    RecordReviewVerdictTx,
    ReviewReason,
    ReviewVerdict,
    Role,
    SetPolicyTx,
    Transfer,
    TransferState,
)
from tests.unit.contract_world import PATIENT, REQUESTING, SOURCE, World, system

OFFICER = Actor(user_id="dpo.sermas", org=SOURCE, role=Role.DPO)
DOCTOR = Actor(user_id="doctor.ki", org=REQUESTING, role=Role.HEALTH_PROFESSIONAL)


def set_policy(world: World, org: str, **fields: int | None) -> None:
    world.run(
        system(org),
        SetPolicyTx(
            policy=OrganisationPolicy(
                org_id=org,
                min_cybersecurity=70,
                min_privacy=60,
                consent_time_limit_s=3600,
                **fields,  # type: ignore[arg-type]
            )
        ),
    )


def bypassed(world: World, transfer_id: str) -> Transfer:
    world.create(transfer_id, emergency=True)
    world.act(transfer_id, Action.ACCEPT_RISK, system(REQUESTING))
    transfer = world.act(transfer_id, Action.BYPASS_CONSENT, system(REQUESTING)).transfer
    assert transfer is not None
    return transfer


def verdict(transfer_id: str) -> RecordReviewVerdictTx:
    return RecordReviewVerdictTx(
        transfer_id=transfer_id,
        verdict=ReviewVerdict.JUSTIFIED,
        reason=ReviewReason.PATIENT_UNABLE_TO_CONSENT,
    )


def test_a_bypass_opens_a_review_due_by_the_source_organisations_review_time() -> None:
    world = World()
    world.seed_orgs()
    set_policy(world, SOURCE, review_time_limit_s=3 * 24 * 3600)
    transfer = bypassed(world, "t-review-open")
    assert transfer.review_required
    assert transfer.review_verdict is None
    assert transfer.review_deadline == world.store.now + timedelta(days=3)


def test_the_source_officers_verdict_is_recorded_in_the_history_without_changing_state() -> None:
    world = World()
    world.seed_orgs()
    bypassed(world, "t-review-verdict")
    world.act("t-review-verdict", Action.DECLARE_AVAILABLE, system(SOURCE))
    result = world.run(OFFICER, verdict("t-review-verdict"))
    transfer = result.transfer
    assert transfer is not None
    assert transfer.state is TransferState.DATA_AVAILABLE
    assert transfer.review_verdict is ReviewVerdict.JUSTIFIED
    assert transfer.review_reason is ReviewReason.PATIENT_UNABLE_TO_CONSENT
    tx_id, last = world.contract.history("t-review-verdict")[-1]
    assert tx_id == result.tx_id
    assert (last.action, last.actor, last.reason) == (
        Action.RECORD_REVIEW_VERDICT,
        OFFICER,
        "PATIENT_UNABLE_TO_CONSENT",
    )
    assert last.from_state is last.to_state is TransferState.DATA_AVAILABLE


def test_only_the_source_organisations_officer_may_judge_and_only_once() -> None:
    world = World()
    world.seed_orgs()
    bypassed(world, "t-review-who")
    colleague = Actor(user_id="doctor.sermas", org=SOURCE, role=Role.HEALTH_PROFESSIONAL)
    with pytest.raises(RoleNotAllowed):
        world.run(colleague, verdict("t-review-who"))
    with pytest.raises(NotAParty):
        world.run(Actor(user_id="dpo.ki", org=REQUESTING, role=Role.DPO), verdict("t-review-who"))
    world.run(OFFICER, verdict("t-review-who"))
    with pytest.raises(ConditionNotMet):
        world.run(OFFICER, verdict("t-review-who"))


def test_a_transfer_without_a_bypass_has_no_review_to_judge() -> None:
    world = World()
    world.seed_orgs()
    world.create("t-review-none")
    with pytest.raises(ConditionNotMet):
        world.run(OFFICER, verdict("t-review-none"))


def test_an_undecided_review_is_flagged_overdue_only_after_its_deadline() -> None:
    world = World()
    world.seed_orgs()
    set_policy(world, SOURCE, review_time_limit_s=60)
    bypassed(world, "t-review-late")
    flag = FlagReviewOverdueTx(transfer_id="t-review-late")
    with pytest.raises(ConditionNotMet):
        world.run(system(SOURCE), flag)
    world.store.now += timedelta(seconds=61)
    with pytest.raises(RoleNotAllowed):
        world.run(system(REQUESTING), flag)
    transfer = world.run(system(SOURCE), flag).transfer
    assert transfer is not None
    assert transfer.review_overdue
    assert transfer.last_transition.action is Action.FLAG_REVIEW_OVERDUE
    # Late is still reviewable: the officer's verdict is recorded, the flag stays.
    judged = world.run(OFFICER, verdict("t-review-late")).transfer
    assert judged is not None
    assert judged.review_overdue
    assert judged.review_verdict is ReviewVerdict.JUSTIFIED


def test_review_steps_cannot_be_taken_through_apply_action() -> None:
    world = World()
    world.seed_orgs()
    bypassed(world, "t-review-smuggle")
    for action in (Action.RECORD_REVIEW_VERDICT, Action.FLAG_REVIEW_OVERDUE):
        with pytest.raises(InvalidArgument):
            world.run(OFFICER, ApplyActionTx(transfer_id="t-review-smuggle", action=action))


def emergency(transfer_id: str) -> CreateTransferTx:
    return CreateTransferTx(
        transfer_id=transfer_id,
        source_org=SOURCE,
        patient_pseudonym=PATIENT,
        emergency=True,
        purpose=PurposeOfUse.ETREAT,
    )


def test_a_professionals_emergencies_beyond_the_daily_limit_are_refused() -> None:
    world = World()
    world.seed_orgs()
    set_policy(world, REQUESTING, emergencies_per_professional_per_day=2)
    world.run(DOCTOR, emergency("t-limit-1"))
    world.run(DOCTOR, emergency("t-limit-2"))
    with pytest.raises(EmergencyLimitReached):
        world.run(DOCTOR, emergency("t-limit-3"))
    # Another professional has their own count; the next day starts a new one.
    colleague = DOCTOR.model_copy(update={"user_id": "doctor2.ki"})
    world.run(colleague, emergency("t-limit-4"))
    world.store.now += timedelta(days=1)
    world.run(DOCTOR, emergency("t-limit-5"))


def test_a_limit_of_zero_refuses_every_emergency_and_none_leaves_them_unlimited() -> None:
    world = World()
    world.seed_orgs()
    set_policy(world, REQUESTING, emergencies_per_professional_per_day=0)
    with pytest.raises(EmergencyLimitReached):
        world.run(DOCTOR, emergency("t-zero-1"))
    set_policy(world, REQUESTING, emergencies_per_professional_per_day=None)
    for n in range(20):
        world.run(DOCTOR, emergency(f"t-unlimited-{n}"))


@pytest.mark.parametrize(
    ("is_emergency", "purpose"),
    [(True, PurposeOfUse.TREAT), (False, PurposeOfUse.ETREAT)],
)
def test_an_emergency_and_only_an_emergency_has_the_purpose_etreat(
    is_emergency: bool, purpose: PurposeOfUse
) -> None:
    world = World()
    world.seed_orgs()
    tx = CreateTransferTx(
        transfer_id="t-purpose",
        source_org=SOURCE,
        patient_pseudonym=PATIENT,
        emergency=is_emergency,
        purpose=purpose,
    )
    with pytest.raises(InvalidArgument):
        world.run(DOCTOR, tx)


def test_the_created_transfer_records_the_purpose_code_and_no_free_text() -> None:
    world = World()
    world.seed_orgs()
    transfer = world.create("t-purpose-code")
    assert transfer.purpose is PurposeOfUse.TREAT
    assert transfer.last_transition.reason == transfer.purpose.value
