"""Turn HPA/PA commands, risk assessments and safeguard results into ledger commands (pure)."""

from schemas import (
    ACTION_COMMANDS,
    Action,
    Actor,
    ApplyActionTx,
    CancelTransfer,
    ConsentDecision,
    CreateTransfer,
    CreateTransferTx,
    LedgerCommand,
    RecordReviewVerdict,
    RecordReviewVerdictTx,
    RecordRiskScoreTx,
    RecordSafeguardsTx,
    RiskAssessment,
    Role,
    SafeguardResult,
    TransferCommand,
    TransferRequest,
)

PROCESSORS_USER = "curex-processors"

_ACTIONS: dict[type[TransferCommand], Action] = {
    command: action for action, command in ACTION_COMMANDS.items()
}


def system_actor(org_id: str) -> Actor:
    return Actor(user_id=PROCESSORS_USER, org=org_id, role=Role.SYSTEM)


def ledger_command_for(command: TransferRequest | ConsentDecision) -> LedgerCommand:
    """The ledger transaction a command asks for; it keeps the command's event id."""
    tx: CreateTransferTx | ApplyActionTx | RecordReviewVerdictTx
    if isinstance(command, CreateTransfer):
        tx = CreateTransferTx(
            transfer_id=command.transfer_id,
            source_org=command.source_org,
            patient_pseudonym=command.patient_pseudonym,
            emergency=command.emergency,
            purpose=command.purpose,
        )
    elif isinstance(command, RecordReviewVerdict):
        tx = RecordReviewVerdictTx(
            transfer_id=command.transfer_id, verdict=command.verdict, reason=command.reason
        )
    else:
        reason = command.reason if isinstance(command, CancelTransfer) else None
        tx = ApplyActionTx(
            transfer_id=command.transfer_id, action=_ACTIONS[type(command)], reason=reason
        )
    return LedgerCommand(
        event_id=command.event_id,
        correlation_id=command.transfer_id,
        occurred_at=command.occurred_at,
        actor=command.actor,
        tx=tx,
    )


def ledger_command_for_assessment(assessment: RiskAssessment) -> LedgerCommand:
    return LedgerCommand(
        event_id=assessment.event_id,
        correlation_id=assessment.org_id,
        actor=system_actor(assessment.org_id),
        tx=RecordRiskScoreTx(assessment=assessment),
    )


def ledger_command_for_safeguards(result: SafeguardResult) -> LedgerCommand:
    return LedgerCommand(
        event_id=result.event_id,
        correlation_id=result.org_id,
        actor=system_actor(result.org_id),
        tx=RecordSafeguardsTx(result=result),
    )
