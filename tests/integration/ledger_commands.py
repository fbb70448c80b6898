"""Ledger commands for adapter tests: the two test organisations and a transfer."""

from ledger_gateway.embedded import EmbeddedLedger
from ledger_gateway.port import Committed, Ledger
from schemas import (
    Actor,
    CreateTransferTx,
    LedgerCommand,
    OrganisationPolicy,
    Party,
    RecordRiskScoreTx,
    RiskAssessment,
    Role,
    SetPolicyTx,
    Transaction,
)
from tests.unit.contract_world import PATIENT, REQUESTING, SOURCE, actor_for, system


def command(actor: Actor, tx: Transaction, correlation: str = "setup") -> LedgerCommand:
    return LedgerCommand(correlation_id=correlation, actor=actor, tx=tx)


def seed_commands() -> list[LedgerCommand]:
    commands = []
    for org in (REQUESTING, SOURCE):
        commands.append(
            command(
                system(org),
                SetPolicyTx(
                    policy=OrganisationPolicy(
                        org_id=org, min_cybersecurity=50, min_privacy=50, consent_time_limit_s=3600
                    )
                ),
                org,
            )
        )
        commands.append(
            command(
                system(org),
                RecordRiskScoreTx(
                    assessment=RiskAssessment(
                        org_id=org, cybersecurity_score=80, privacy_score=80, source="CAT"
                    )
                ),
                org,
            )
        )
    return commands


def seed(ledger: EmbeddedLedger) -> None:
    assert all(isinstance(o, Committed) for o in ledger.submit(seed_commands()))


async def seed_port(ledger: Ledger) -> None:
    assert all(isinstance(o, Committed) for o in await ledger.submit(seed_commands()))


def create(transfer_id: str) -> LedgerCommand:
    return command(
        actor_for(Role.HEALTH_PROFESSIONAL, Party.REQUESTING_ORG),
        CreateTransferTx(
            transfer_id=transfer_id,
            source_org=SOURCE,
            patient_pseudonym=PATIENT,
            emergency=True,
            reason="continuity of care",
        ),
        transfer_id,
    )
