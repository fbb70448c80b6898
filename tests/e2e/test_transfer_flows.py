"""Every flow of the workflow through Kafka, the processors and the ledger gateway."""

import pytest

from curex.block_watch import BlockWatcher, reached
from producers.publisher import CommandPublisher
from schemas import (
    GDPR_VITAL_INTERESTS,
    CancelReason,
    CancelTransfer,
    CloseTransfer,
    GrantConsent,
    MarkReceived,
    MarkTransferred,
    RefuseConsent,
    RevokeConsent,
    TransactionCommitted,
    TransferState,
)
from tests.conftest import SessionWorld

pytestmark = pytest.mark.integration
S = TransferState
WITHIN = 60.0


def path(watcher: BlockWatcher, transfer_id: str) -> list[TransferState]:
    seen: list[TransferState] = []
    for report in watcher.committed(transfer_id):
        transfer = report.result.transfer
        if transfer is not None and transfer.state not in seen:
            seen.append(transfer.state)
    return seen


async def start(
    publisher: CommandPublisher,
    watcher: BlockWatcher,
    world: SessionWorld,
    until: TransferState,
    **create: object,
) -> str:
    command = world.create(**create)  # type: ignore[arg-type]
    await publisher.publish_and_wait(command)
    await watcher.wait_until([command.transfer_id], reached(until), within=WITHIN)
    return command.transfer_id


async def then(
    publisher: CommandPublisher, watcher: BlockWatcher, command: object, until: TransferState
) -> None:
    await publisher.publish_and_wait(command)  # type: ignore[arg-type]
    await watcher.wait_until([command.transfer_id], reached(until), within=WITHIN)  # type: ignore[attr-defined]


async def test_normal_transfer_with_consent_reaches_closed(
    publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    tid = await start(publisher, watcher, world, S.RISK_ACCEPTED, emergency=False)
    patient, req, src = world.patient(), world.doctor(world.requesting), world.doctor(world.source)
    await then(
        publisher,
        watcher,
        GrantConsent(correlation_id=tid, transfer_id=tid, actor=patient),
        S.DATA_AVAILABLE,
    )
    await then(
        publisher,
        watcher,
        MarkTransferred(correlation_id=tid, transfer_id=tid, actor=src),
        S.DATA_TRANSFERRED,
    )
    await then(
        publisher,
        watcher,
        MarkReceived(correlation_id=tid, transfer_id=tid, actor=req),
        S.DATA_RECEIVED,
    )
    await then(
        publisher, watcher, CloseTransfer(correlation_id=tid, transfer_id=tid, actor=req), S.CLOSED
    )
    assert path(watcher, tid) == [
        S.INITIALISED,
        S.RISK_ACCEPTED,
        S.PATIENT_ACCEPTED,
        S.DATA_AVAILABLE,
        S.DATA_TRANSFERRED,
        S.DATA_RECEIVED,
        S.CLOSED,
    ]


async def test_emergency_bypasses_consent_with_legal_basis_and_review_flag(
    publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    tid = await start(publisher, watcher, world, S.DATA_AVAILABLE, emergency=True)
    assert path(watcher, tid) == [
        S.INITIALISED,
        S.RISK_ACCEPTED,
        S.EMERGENCY_BYPASS,
        S.DATA_AVAILABLE,
    ]
    bypass = next(
        r.result.transfer
        for r in watcher.committed(tid)
        if r.result.transfer and r.result.transfer.state is S.EMERGENCY_BYPASS
    )
    assert bypass is not None
    assert bypass.review_required
    assert bypass.last_transition.legal_basis == GDPR_VITAL_INTERESTS
    req = world.doctor(world.requesting)
    await then(
        publisher,
        watcher,
        MarkTransferred(correlation_id=tid, transfer_id=tid, actor=world.doctor(world.source)),
        S.DATA_TRANSFERRED,
    )
    await then(
        publisher,
        watcher,
        MarkReceived(correlation_id=tid, transfer_id=tid, actor=req),
        S.DATA_RECEIVED,
    )
    await then(
        publisher, watcher, CloseTransfer(correlation_id=tid, transfer_id=tid, actor=req), S.CLOSED
    )


async def test_patient_refusal_ends_the_transfer(
    publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    tid = await start(publisher, watcher, world, S.RISK_ACCEPTED, emergency=False)
    await then(
        publisher,
        watcher,
        RefuseConsent(correlation_id=tid, transfer_id=tid, actor=world.patient()),
        S.PATIENT_REJECTED,
    )


async def test_revocation_stops_the_transfer_before_data_moves(
    publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    tid = await start(publisher, watcher, world, S.RISK_ACCEPTED, emergency=False)
    await then(
        publisher,
        watcher,
        GrantConsent(correlation_id=tid, transfer_id=tid, actor=world.patient()),
        S.DATA_AVAILABLE,
    )
    await then(
        publisher,
        watcher,
        RevokeConsent(correlation_id=tid, transfer_id=tid, actor=world.patient()),
        S.CONSENT_REVOKED,
    )
    late = MarkTransferred(correlation_id=tid, transfer_id=tid, actor=world.doctor(world.source))
    await publisher.publish_and_wait(late)
    await watcher.wait_until([tid], lambda _: bool(watcher.rejections(tid)), within=WITHIN)
    [rejection] = watcher.rejections(tid)
    assert rejection.code == "ILLEGAL_TRANSITION"
    assert rejection.current_state is S.CONSENT_REVOKED
    assert watcher.state(tid) is S.CONSENT_REVOKED


async def test_cancellation_by_the_requesting_professional(
    publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    tid = await start(publisher, watcher, world, S.RISK_ACCEPTED, emergency=False)
    await then(
        publisher,
        watcher,
        CancelTransfer(
            correlation_id=tid,
            transfer_id=tid,
            actor=world.doctor(world.requesting),
            reason=CancelReason.PATIENT_DISCHARGED,
        ),
        S.CANCELLED,
    )


async def test_consent_not_given_in_time_expires(
    publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    tid = await start(
        publisher, watcher, world, S.EXPIRED, emergency=False, source=world.source_fast_expiry
    )
    assert path(watcher, tid) == [S.INITIALISED, S.RISK_ACCEPTED, S.EXPIRED]


async def test_low_risk_score_rejects_and_names_the_org_and_score(
    publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    tid = await start(
        publisher, watcher, world, S.RISK_REJECTED, emergency=True, source=world.risky
    )
    rejected = watcher.committed(tid)[-1].result.transfer
    assert rejected is not None
    assert f"{world.risky} cybersecurity score 20" in (rejected.last_transition.reason or "")


async def test_missing_records_end_as_data_unavailable(
    publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    await start(
        publisher,
        watcher,
        world,
        S.DATA_UNAVAILABLE,
        emergency=True,
        patient_id=world.patient_without_records,
    )


async def test_the_wrong_party_is_rejected_and_the_state_is_unchanged(
    publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    tid = await start(publisher, watcher, world, S.DATA_AVAILABLE, emergency=True)
    wrong = MarkTransferred(
        correlation_id=tid, transfer_id=tid, actor=world.doctor(world.requesting)
    )
    await publisher.publish_and_wait(wrong)
    await watcher.wait_until([tid], lambda _: bool(watcher.rejections(tid)), within=WITHIN)
    assert watcher.rejections(tid)[0].code == "NOT_A_PARTY"
    assert watcher.state(tid) is S.DATA_AVAILABLE
    assert all(isinstance(r, TransactionCommitted) for r in watcher.committed(tid))
