"""Committed-transaction reports built directly, for read-model tests: any parties, any
state, any time, any block."""

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from schemas import (
    Action,
    Actor,
    CommandRejected,
    Role,
    TransactionCommitted,
    Transfer,
    TransferState,
    Transition,
    TxResult,
)
from schemas.codes import purpose_for

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def pseudonym(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def new_transfer_id() -> str:
    return f"tr-{uuid.uuid4().hex}"


def committed(
    transfer_id: str,
    *,
    block: int,
    state: TransferState = TransferState.INITIALISED,
    previous: TransferState | None = None,
    action: Action = Action.CREATE,
    at: datetime = T0,
    created_at: datetime | None = None,
    requesting: str = "SE-KI",
    source: str = "ES-SERMAS",
    patient: str = pseudonym("patient"),
    emergency: bool = False,
    reason: str | None = None,
) -> TransactionCommitted:
    actor = Actor(user_id="doctor.ki", org=requesting, role=Role.HEALTH_PROFESSIONAL)
    move = Transition(
        transfer_id=transfer_id,
        from_state=previous,
        to_state=state,
        action=action,
        actor=actor,
        at=at,
        reason=reason,
    )
    transfer = Transfer(
        transfer_id=transfer_id,
        requesting_org=requesting,
        source_org=source,
        patient_pseudonym=patient,
        emergency=emergency,
        purpose=purpose_for(emergency),
        state=state,
        created_at=created_at or at,
        updated_at=at,
        last_transition=move,
    )
    tx_id = uuid.uuid4().hex
    return TransactionCommitted(
        correlation_id=transfer_id,
        occurred_at=at,
        command_event_id=str(uuid.uuid4()),
        tx_id=tx_id,
        block_number=block,
        result=TxResult(tx_id=tx_id, op="apply_action", transfer=transfer),
    )


def lifecycle(
    transfer_id: str, first_block: int, start: datetime = T0
) -> list[TransactionCommitted]:
    """Created, audited, cancelled: three reports in ledger order."""
    S = TransferState
    steps = [
        (S.INITIALISED, None, Action.CREATE),
        (S.RISK_ACCEPTED, S.INITIALISED, Action.ACCEPT_RISK),
        (S.CANCELLED, S.RISK_ACCEPTED, Action.CANCEL),
    ]
    return [
        committed(
            transfer_id,
            block=first_block + n,
            state=state,
            previous=previous,
            action=action,
            at=start + timedelta(seconds=n),
            created_at=start,
        )
        for n, (state, previous, action) in enumerate(steps)
    ]


def rejected(transfer_id: str, current: TransferState) -> CommandRejected:
    return CommandRejected(
        correlation_id=transfer_id,
        command_event_id=str(uuid.uuid4()),
        code="ILLEGAL_TRANSITION",
        reason="raced",
        current_state=current,
    )
