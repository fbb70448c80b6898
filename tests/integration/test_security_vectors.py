"""Forged and honest commands, one table, run against the stack's ledger: the embedded one in
the embedded pass and the Fabric network in the Fabric pass. Each row is submitted through
the connection of the organisation that signs it, as that organisation's gateway would."""

import asyncio
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from curex.demo import DEMO_POLICIES, demo_assessments
from curex.org_ledgers import OrgLedgers
from infra.settings import InfraSettings
from ledger_gateway.port import Committed, Ledger, Rejected
from processors.intake import system_actor
from schemas import (
    Action,
    Actor,
    ApplyActionTx,
    AuditRiskTx,
    CreateTransferTx,
    LedgerCommand,
    PurposeOfUse,
    RecordRiskScoreTx,
    Role,
    SetPolicyTx,
    Transaction,
    TransferState,
    utc_now,
)
from tests.ledger_access import stack_ledger

pytestmark = pytest.mark.integration
AUDIT_WITHIN_S = 60.0

HOME = "ES-SERMAS"  # the patient's home organisation
TREATING = "SE-KI"
HOSTED = "TS-SOURCE"  # hosted by ES-SERMAS in the suite's network


@dataclass(frozen=True)
class Transfer:
    transfer_id: str
    pseudonym: str


def _doctor(org: str) -> Actor:
    return Actor(user_id=f"doctor@{org}", org=org, role=Role.HEALTH_PROFESSIONAL)


def _patient(transfer: Transfer, org: str = HOME) -> Actor:
    return Actor(user_id=transfer.pseudonym, org=org, role=Role.PATIENT)


def _grant(transfer: Transfer) -> ApplyActionTx:
    return ApplyActionTx(transfer_id=transfer.transfer_id, action=Action.GRANT_CONSENT)


def _command(actor: Actor, tx: Transaction, event_id: uuid.UUID | None = None) -> LedgerCommand:
    return LedgerCommand(
        correlation_id="security-vectors", actor=actor, tx=tx, event_id=event_id or uuid.uuid4()
    )


async def _one(ledgers: OrgLedgers, signer: str, command: LedgerCommand) -> Committed | Rejected:
    [outcome] = await ledgers.by_org[signer].submit([command])
    return outcome


@pytest.fixture(scope="module")
async def ledgers(stack: InfraSettings) -> AsyncIterator[OrgLedgers]:
    async with stack_ledger(stack) as ledger:
        assert isinstance(ledger, OrgLedgers)
        for policy in DEMO_POLICIES:
            command = _command(system_actor(policy.org_id), SetPolicyTx(policy=policy))
            assert isinstance(await _one(ledger, policy.org_id, command), Committed)
        for fresh in demo_assessments():
            command = _command(system_actor(fresh.org_id), RecordRiskScoreTx(assessment=fresh))
            assert isinstance(await _one(ledger, fresh.org_id, command), Committed)
        yield ledger


async def awaiting_consent(ledgers: OrgLedgers) -> Transfer:
    """A transfer of a patient of ES-SERMAS requested by SE-KI, audited, awaiting consent."""
    transfer = Transfer(f"t-sec-{uuid.uuid4().hex[:10]}", secrets.token_hex(32))
    create = CreateTransferTx(
        transfer_id=transfer.transfer_id,
        source_org=HOME,
        patient_pseudonym=transfer.pseudonym,
        emergency=False,
        purpose=PurposeOfUse.COC,
    )
    assert isinstance(await _one(ledgers, TREATING, _command(_doctor(TREATING), create)), Committed)
    # The running processors audit it, as they audit every new transfer.
    deadline = time.monotonic() + AUDIT_WITHIN_S
    while (state := await _state(ledgers, transfer)) is not TransferState.RISK_ACCEPTED:
        assert time.monotonic() < deadline, f"not audited within {AUDIT_WITHIN_S}s: {state}"
        await asyncio.sleep(0.1)  # the interval of a deadline-bounded poll
    return transfer


async def _state(ledger: Ledger, transfer: Transfer) -> TransferState | None:
    found = await ledger.transfer(transfer.transfer_id)
    return None if found is None else found.state


@dataclass(frozen=True)
class Vector:
    name: str
    signer: str
    command: Callable[[Transfer], LedgerCommand]
    # The contract's error code, or None: committed.
    refused_with: str | None


VECTORS = (
    Vector(
        "the patient's own grant, signed by their home organisation",
        HOME,
        lambda t: _command(_patient(t), _grant(t)),
        None,
    ),
    Vector(
        "a grant as the patient of ES-SERMAS, signed with SE-KI's identity",
        TREATING,
        lambda t: _command(_patient(t), _grant(t)),
        "WRONG_SIGNER",
    ),
    Vector(
        "a grant as a patient of SE-KI holding the ES-SERMAS patient's pseudonym",
        TREATING,
        lambda t: _command(_patient(t, org=TREATING), _grant(t)),
        "NOT_A_PARTY",
    ),
    Vector(
        "SE-KI's audit signed with ES-SERMAS's identity",
        HOME,
        lambda t: _command(system_actor(TREATING), AuditRiskTx(transfer_id=t.transfer_id)),
        "WRONG_SIGNER",
    ),
    Vector(
        "a risk score dated an hour ahead",
        HOME,
        lambda t: _command(
            system_actor(HOME),
            RecordRiskScoreTx(
                assessment=demo_assessments()[0].model_copy(
                    update={"assessed_at": utc_now() + timedelta(hours=1)}
                )
            ),
        ),
        "INVALID_ARGUMENT",
    ),
    Vector(
        "a policy of an organisation ES-SERMAS hosts, signed by SE-KI",
        TREATING,
        lambda t: _command(
            system_actor(HOSTED),
            SetPolicyTx(policy=DEMO_POLICIES[0].model_copy(update={"org_id": HOSTED})),
        ),
        "WRONG_SIGNER",
    ),
)


@pytest.mark.parametrize("vector", VECTORS, ids=[v.name for v in VECTORS])
async def test_each_command_gets_the_tables_outcome_and_a_refusal_changes_nothing(
    ledgers: OrgLedgers, vector: Vector
) -> None:
    transfer = await awaiting_consent(ledgers)

    outcome = await _one(ledgers, vector.signer, vector.command(transfer))

    if vector.refused_with is None:
        assert isinstance(outcome, Committed), outcome
        assert outcome.result.transfer is not None
        assert outcome.result.transfer.state is TransferState.PATIENT_ACCEPTED
    else:
        assert isinstance(outcome, Rejected), outcome
        assert outcome.error.code == vector.refused_with
        assert await _state(ledgers, transfer) is TransferState.RISK_ACCEPTED


async def test_an_event_id_reused_for_another_command_is_refused_and_has_no_effect(
    ledgers: OrgLedgers,
) -> None:
    transfer = await awaiting_consent(ledgers)
    event_id = uuid.uuid4()
    grant = _command(_patient(transfer), _grant(transfer), event_id)
    first = await _one(ledgers, HOME, grant)
    assert isinstance(first, Committed)

    refuse = ApplyActionTx(transfer_id=transfer.transfer_id, action=Action.REFUSE_CONSENT)
    reused = await _one(ledgers, HOME, _command(_patient(transfer), refuse, event_id))
    again = await _one(ledgers, HOME, grant)

    assert isinstance(reused, Rejected)
    assert reused.error.code == "EVENT_ID_CONFLICT"
    assert isinstance(again, Committed)
    assert again.replayed
    assert again.tx_id == first.tx_id
    history = await ledgers.history(transfer.transfer_id)
    assert Action.REFUSE_CONSENT not in {item.transition.action for item in history}
