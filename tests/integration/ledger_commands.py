"""Ledger commands for adapter tests: the two test organisations and a transfer."""

from pathlib import Path
from typing import Any

from curex.assessments import assessment
from curex.org_ledgers import OrgLedgers, scratch_keys
from ledger_gateway.embedded import EmbeddedLedger, EmbeddedLedgerPort
from ledger_gateway.port import Committed, Ledger, Outcome
from schemas import (
    Actor,
    CreateTransferTx,
    LedgerCommand,
    OrganisationPolicy,
    Party,
    PurposeOfUse,
    RecordRiskScoreTx,
    Role,
    SetPolicyTx,
    Transaction,
)
from tests.unit.contract_world import NETWORK, PATIENT, REQUESTING, SOURCE, actor_for, system

MEMBERSHIP, SIGNERS = scratch_keys(NETWORK)


class SignedEmbedded:
    """An embedded ledger whose commands each arrive signed by their actor's host, as the
    organisations' gateways would send them."""

    def __init__(self, path: Path) -> None:
        self.ledger = EmbeddedLedger(path, NETWORK, MEMBERSHIP)

    def submit(self, commands: list[LedgerCommand]) -> list[Outcome]:
        """One signed batch per signing member, in the order each first appears."""
        groups: dict[str, list[int]] = {}
        for index, command in enumerate(commands):
            groups.setdefault(NETWORK.host_of(command.actor.org) or SOURCE, []).append(index)
        outcomes: dict[int, Outcome] = {}
        for host, indexes in groups.items():
            batch = SIGNERS[host].sign([commands[i] for i in indexes])
            outcomes.update(zip(indexes, self.ledger.submit(batch), strict=True))
        return [outcomes[i] for i in range(len(commands))]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ledger, name)


def embedded_port(path: Path) -> OrgLedgers:
    """Each member's signing port on one embedded ledger file."""
    return OrgLedgers(
        {
            org: EmbeddedLedgerPort(EmbeddedLedger(path, NETWORK, MEMBERSHIP), signer)
            for org, signer in SIGNERS.items()
        },
        NETWORK,
    )


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
                RecordRiskScoreTx(assessment=assessment(org, 80, 80)),
                org,
            )
        )
    return commands


def seed(ledger: SignedEmbedded) -> None:
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
            purpose=PurposeOfUse.ETREAT,
        ),
        transfer_id,
    )
