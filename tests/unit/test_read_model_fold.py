"""Folding block reports into a transfer's read-model document (pure)."""

from read_model.documents import from_stored, stored
from read_model.fold import fold
from schemas import (
    Action,
    CommandRejected,
    CreateTransferTx,
    Party,
    Role,
    TransactionCommitted,
    TransferState,
)
from tests.unit.contract_world import PATIENT, REQUESTING, SOURCE, World, actor_for, system

DOCTOR = actor_for(Role.HEALTH_PROFESSIONAL, Party.REQUESTING_ORG)


def committed_reports() -> list[TransactionCommitted]:
    world = World()
    world.seed_orgs()
    created = world.run(
        DOCTOR,
        CreateTransferTx(
            transfer_id="t-fold-1",
            source_org=SOURCE,
            patient_pseudonym=PATIENT,
            emergency=False,
            reason="care",
        ),
    )
    audited = world.act("t-fold-1", Action.ACCEPT_RISK, system(REQUESTING))
    cancelled = world.act("t-fold-1", Action.CANCEL, DOCTOR)
    return [
        TransactionCommitted(
            correlation_id="t-fold-1",
            command_event_id=f"e{n}",
            tx_id=f"tx-{n}",
            block_number=10 + n,
            result=result,
        )
        for n, result in enumerate((created, audited, cancelled))
    ]


def test_folding_follows_the_transfer_to_its_latest_state_with_full_history() -> None:
    document = fold(None, committed_reports())
    assert document is not None
    assert document.state is TransferState.CANCELLED
    assert document.previous_state is TransferState.RISK_ACCEPTED
    assert [h.to_state.value for h in document.history] == [
        "INITIALISED",
        "RISK_ACCEPTED",
        "CANCELLED",
    ]


def test_redelivered_and_out_of_order_reports_change_nothing() -> None:
    reports = committed_reports()
    once = fold(None, reports)
    assert fold(once, [reports[1], reports[0], reports[2]]) == once
    late = fold(fold(None, [reports[0], reports[2]]), [reports[1]])
    assert late is not None
    assert late.state is TransferState.CANCELLED  # an older block never moves the state back
    assert [h.block_number for h in late.history] == [10, 11, 12]


def test_a_rejection_is_recorded_on_a_known_transfer_only() -> None:
    rejected = CommandRejected(
        correlation_id="t-fold-1",
        command_event_id="e9",
        code="ILLEGAL_TRANSITION",
        reason="too late",
        current_state=TransferState.CANCELLED,
    )
    assert fold(None, [rejected]) is None
    document = fold(fold(None, committed_reports()), [rejected])
    assert document is not None
    assert document.last_rejection is not None
    assert document.last_rejection.code == "ILLEGAL_TRANSITION"


def test_a_later_commit_keeps_the_rejection_seen_before_it() -> None:
    reports = committed_reports()
    rejected = CommandRejected(
        correlation_id="t-fold-1",
        command_event_id="e9",
        code="ILLEGAL_TRANSITION",
        reason="raced",
        current_state=TransferState.RISK_ACCEPTED,
    )
    document = fold(fold(None, reports[:2]), [rejected, reports[2]])
    assert document is not None
    assert document.state is TransferState.CANCELLED
    assert document.last_rejection is not None


def test_a_stored_document_reads_back_as_the_same_view_with_times_that_sort_as_text() -> None:
    document = fold(None, committed_reports())
    assert document is not None
    row = stored(document)
    assert isinstance(row["updated_at"], str)
    assert row["updated_at"].endswith("+00:00")
    assert row["state"] == "CANCELLED"
    assert from_stored({"_id": document.transfer_id, **row}) == document
