"""Feedback to the assessment tools (pure): one record per organisation when a transfer
finishes, counts and codes only."""

import pytest

from processors.feedback import feedback_for
from schemas import FINAL_STATES, Action, Party, Role, TransferState
from tests.unit.contract_world import PATIENT, REQUESTING, SOURCE, World, actor_for, system


def _finished(world: World, transfer_id: str, *, emergency: bool = False) -> None:
    world.create(transfer_id, emergency=emergency)
    world.act(transfer_id, Action.ACCEPT_RISK, system(REQUESTING))


def test_a_finished_transfer_gives_each_organisation_one_record_without_identifiers() -> None:
    world = World()
    world.seed_orgs()
    _finished(world, "t-feedback-1")
    result = world.act(
        "t-feedback-1", Action.CANCEL, actor_for(Role.HEALTH_PROFESSIONAL, Party.REQUESTING_ORG)
    )
    assert result.transfer is not None
    records = feedback_for(result.tx_id, result.transfer)
    assert {(r.org_id, r.role) for r in records} == {(REQUESTING, "requesting"), (SOURCE, "source")}
    for record in records:
        assert (record.outcome, record.action, record.transfers) == (
            TransferState.CANCELLED,
            Action.CANCEL,
            1,
        )
        assert record.hour.minute == record.hour.second == record.hour.microsecond == 0
        text = record.model_dump_json()
        for identifier in ("t-feedback-1", PATIENT, "health_professional@", result.tx_id):
            assert identifier not in text


def test_the_same_commit_seen_twice_gives_the_same_record_ids() -> None:
    world = World()
    world.seed_orgs(cyber=10)
    world.create("t-feedback-2")
    result = world.act("t-feedback-2", Action.REJECT_RISK, system(REQUESTING))
    assert result.transfer is not None
    assert result.transfer.state is TransferState.RISK_REJECTED
    first = feedback_for(result.tx_id, result.transfer)
    again = feedback_for(result.tx_id, result.transfer)
    assert [r.event_id for r in first] == [r.event_id for r in again]
    assert len({r.event_id for r in first}) == 2


@pytest.mark.parametrize("action", [Action.CREATE, Action.ACCEPT_RISK])
def test_a_transfer_still_under_way_gives_no_record(action: Action) -> None:
    world = World()
    world.seed_orgs()
    transfer = world.create("t-feedback-3")
    if action is Action.ACCEPT_RISK:
        result = world.act("t-feedback-3", action, system(REQUESTING))
        assert result.transfer is not None
        transfer = result.transfer
    assert transfer.state not in FINAL_STATES
    assert feedback_for("tx", transfer) == []
