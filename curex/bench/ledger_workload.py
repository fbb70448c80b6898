"""The ledger benches' transactions: both members' seed, and emergency creates."""

import uuid

from curex.assessments import assessment
from schemas import (
    Actor,
    CreateTransferTx,
    LedgerCommand,
    OrganisationPolicy,
    PurposeOfUse,
    RecordRiskScoreTx,
    Role,
    SetPolicyTx,
)

REQUESTING = "SE-KI"
SOURCE = "ES-SERMAS"


def _system(org: str) -> Actor:
    return Actor(user_id="curex-bench", org=org, role=Role.SYSTEM)


def seed_commands() -> list[LedgerCommand]:
    commands = []
    for org in (REQUESTING, SOURCE):
        policy = OrganisationPolicy(
            org_id=org, min_cybersecurity=50, min_privacy=50, consent_time_limit_s=3600
        )
        score = assessment(org, 90, 90)
        commands.append(
            LedgerCommand(correlation_id=org, actor=_system(org), tx=SetPolicyTx(policy=policy))
        )
        commands.append(
            LedgerCommand(
                correlation_id=org, actor=_system(org), tx=RecordRiskScoreTx(assessment=score)
            )
        )
    return commands


def creates(count: int) -> list[LedgerCommand]:
    doctor = Actor(user_id="doctor.bench", org=REQUESTING, role=Role.HEALTH_PROFESSIONAL)
    run = uuid.uuid4().hex[:8]
    commands = []
    for n in range(count):
        transfer_id = f"bench-{run}-{n}"
        commands.append(
            LedgerCommand(
                correlation_id=transfer_id,
                actor=doctor,
                tx=CreateTransferTx(
                    transfer_id=transfer_id,
                    source_org=SOURCE,
                    patient_pseudonym=uuid.uuid4().hex * 2,
                    emergency=True,
                    purpose=PurposeOfUse.ETREAT,
                ),
            )
        )
    return commands
