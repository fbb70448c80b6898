"""The processors' pure decisions: intake mapping and what follows each committed state."""

from datetime import UTC, datetime, timedelta

import pytest

from curex.assessments import assessment
from processors.intake import ledger_command_for, ledger_command_for_assessment
from processors.reactions import expire_command, react
from processors.records import InMemoryRecords
from schemas import (
    Action,
    ApplyActionTx,
    AuditRiskTx,
    CancelReason,
    CancelTransfer,
    CreateTransferTx,
    GrantConsent,
    Party,
    PurposeOfUse,
    RecordRiskScoreTx,
    ReviewReason,
    ReviewVerdict,
    RevokeConsent,
    Role,
    Transfer,
    TransferState,
    Transition,
)
from tests.unit.contract_world import PATIENT, REQUESTING, SOURCE, World, actor_for

HP = actor_for(Role.HEALTH_PROFESSIONAL, Party.REQUESTING_ORG)
NOW = datetime(2026, 5, 1, tzinfo=UTC)


def transfer(state: TransferState, *, emergency: bool = False) -> Transfer:
    return Transfer(
        transfer_id="t-reaction-1",
        requesting_org=REQUESTING,
        source_org=SOURCE,
        patient_pseudonym=PATIENT,
        emergency=emergency,
        purpose=PurposeOfUse.TREAT,
        state=state,
        created_at=NOW,
        updated_at=NOW,
        consent_deadline=NOW + timedelta(hours=1),
        last_transition=Transition(
            transfer_id="t-reaction-1",
            from_state=None,
            to_state=state,
            action=Action.CREATE,
            actor=HP,
            at=NOW,
        ),
    )


RECORDS = InMemoryRecords({SOURCE: {PATIENT}})


def test_a_new_transfer_triggers_the_risk_audit() -> None:
    [command] = react("tx-1", transfer(TransferState.INITIALISED), RECORDS).commands
    assert isinstance(command.tx, AuditRiskTx)
    assert command.actor.role is Role.SYSTEM


def test_accepted_risk_bypasses_consent_only_in_an_emergency() -> None:
    emergency = react("tx-2", transfer(TransferState.RISK_ACCEPTED, emergency=True), RECORDS)
    assert [c.tx.action for c in emergency.commands if isinstance(c.tx, ApplyActionTx)] == [
        Action.BYPASS_CONSENT
    ]
    normal = react("tx-2", transfer(TransferState.RISK_ACCEPTED), RECORDS)
    assert normal.commands == []
    assert normal.deadline is not None
    assert normal.deadline.deadline == NOW + timedelta(hours=1)


@pytest.mark.parametrize("state", [TransferState.PATIENT_ACCEPTED, TransferState.EMERGENCY_BYPASS])
@pytest.mark.parametrize(
    ("holdings", "expected"),
    [
        ({SOURCE: {PATIENT}}, Action.DECLARE_AVAILABLE),
        ({SOURCE: set()}, Action.DECLARE_UNAVAILABLE),
        (
            {REQUESTING: {PATIENT}},
            Action.DECLARE_UNAVAILABLE,
        ),  # only the source org's records count
    ],
)
def test_availability_is_asked_of_the_source_orgs_records(
    state: TransferState, holdings: dict[str, set[str]], expected: Action
) -> None:
    [command] = react("tx-3", transfer(state), InMemoryRecords(holdings)).commands
    assert isinstance(command.tx, ApplyActionTx)
    assert command.tx.action is expected
    assert command.actor.org == SOURCE


def test_the_same_block_event_always_derives_the_same_command() -> None:
    first = react("tx-4", transfer(TransferState.INITIALISED), RECORDS).commands[0]
    again = react("tx-4", transfer(TransferState.INITIALISED), RECORDS).commands[0]
    other = react("tx-5", transfer(TransferState.INITIALISED), RECORDS).commands[0]
    assert first.event_id == again.event_id
    assert first.event_id != other.event_id
    deadline = NOW + timedelta(hours=1)
    assert (
        expire_command("t-expire-1", SOURCE, deadline).event_id
        == expire_command("t-expire-1", SOURCE, deadline).event_id
    )


@pytest.mark.parametrize(
    "state", [TransferState.PATIENT_ACCEPTED, TransferState.CLOSED, TransferState.CONSENT_REVOKED]
)
def test_leaving_risk_accepted_stops_the_consent_clock(state: TransferState) -> None:
    deadline = react("tx-6", transfer(state), RECORDS).deadline
    assert deadline is not None
    assert deadline.deadline is None


def test_intake_keeps_the_commands_event_id_and_maps_each_type() -> None:
    cancel = CancelTransfer(
        correlation_id="t-intake-1",
        transfer_id="t-intake-1",
        actor=HP,
        reason=CancelReason.PATIENT_DISCHARGED,
    )
    command = ledger_command_for(cancel)
    assert command.event_id == cancel.event_id
    assert isinstance(command.tx, ApplyActionTx)
    assert (command.tx.action, command.tx.reason) == (Action.CANCEL, "PATIENT_DISCHARGED")
    patient = actor_for(Role.PATIENT, Party.PATIENT)
    for decision, action in ((GrantConsent, Action.GRANT_CONSENT), (RevokeConsent, Action.REVOKE)):
        mapped = ledger_command_for(
            decision(correlation_id="t-intake-1", transfer_id="t-intake-1", actor=patient)
        )
        assert isinstance(mapped.tx, ApplyActionTx)
        assert mapped.tx.action is action
    world = World()
    world.seed_orgs()
    score = assessment(SOURCE, 1, 2, source="PAT")
    recorded = ledger_command_for_assessment(score)
    assert isinstance(recorded.tx, RecordRiskScoreTx)
    assert recorded.actor.org == SOURCE
    assert not isinstance(recorded.tx, CreateTransferTx)


def reviewed(state: TransferState, **review: object) -> Transfer:
    return transfer(state, emergency=True).model_copy(
        update={
            "review_required": True,
            "review_deadline": NOW + timedelta(days=7),
            "consent_deadline": None,
            **review,
        }
    )


@pytest.mark.parametrize(
    "state", [TransferState.EMERGENCY_BYPASS, TransferState.DATA_AVAILABLE, TransferState.CLOSED]
)
def test_an_open_review_keeps_its_deadline_whatever_the_transfer_does_next(
    state: TransferState,
) -> None:
    deadline = react("tx-r1", reviewed(state), RECORDS).deadline
    assert deadline is not None
    assert (deadline.deadline, deadline.kind) == (NOW + timedelta(days=7), "review")


def test_a_verdict_clears_the_review_deadline_and_asks_nothing_of_the_ledger() -> None:
    judged = reviewed(
        TransferState.EMERGENCY_BYPASS,
        review_verdict=ReviewVerdict.UNJUSTIFIED,
        review_reason=ReviewReason.NOT_AN_EMERGENCY,
    )
    judged = judged.model_copy(
        update={
            "last_transition": judged.last_transition.model_copy(
                update={"action": Action.RECORD_REVIEW_VERDICT}
            )
        }
    )
    reaction = react("tx-r2", judged, RECORDS)
    assert reaction.commands == []
    assert reaction.deadline is not None
    assert reaction.deadline.deadline is None


def test_an_overdue_flag_clears_the_review_deadline() -> None:
    deadline = react("tx-r3", reviewed(TransferState.DATA_AVAILABLE, review_overdue=True), RECORDS)
    assert deadline.deadline is not None
    assert deadline.deadline.deadline is None
