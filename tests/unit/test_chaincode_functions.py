"""The transfer chaincode's functions as a peer sees them on the stream: results and their
event, the creator's identity, reads, and refusals with the contract's error codes."""

import json
import uuid
from datetime import UTC, datetime

import pytest

from curex.assessments import assessment
from ledger_gateway.chaincode import composite_key
from ledger_gateway.fabric.chaincode.functions import EVENT_NAME
from schemas import (
    Action,
    Actor,
    ApplyActionTx,
    AuditRiskTx,
    LedgerCommand,
    OrganisationPolicy,
    RecordRiskScoreTx,
    Role,
    SetPolicyTx,
    Transfer,
    TransferState,
    Transition,
    TxResult,
)
from tests.unit.fake_peer import (
    CHANNEL,
    HOSTED,
    PATIENT,
    REQUESTING,
    SOURCE,
    FakePeer,
    create_tx,
    doctor,
    new_transfer_id,
)


def system(org: str) -> Actor:
    return Actor(user_id="curex-processors", org=org, role=Role.SYSTEM)


def policy(org: str) -> SetPolicyTx:
    return SetPolicyTx(
        policy=OrganisationPolicy(
            org_id=org, min_cybersecurity=70, min_privacy=60, consent_time_limit_s=3600
        )
    )


def scores(org: str) -> RecordRiskScoreTx:
    return RecordRiskScoreTx(assessment=assessment(org, 90, 90))


async def test_a_create_completes_with_the_result_and_the_event(peer: FakePeer) -> None:
    transfer_id = new_transfer_id()
    reply = await peer.submit(doctor(REQUESTING), create_tx(transfer_id))

    result = reply.result
    assert result.op == "create_transfer"
    assert result.tx_id == reply.message.txid
    assert result.transfer is not None
    assert result.transfer.state is TransferState.INITIALISED
    assert reply.message.channel_id == CHANNEL
    assert reply.has_event
    assert reply.message.chaincode_event.event_name == EVENT_NAME
    assert TxResult.model_validate_json(reply.message.chaincode_event.payload) == result
    stored = peer.state[composite_key("transfer", transfer_id)]
    assert Transfer.model_validate_json(stored) == result.transfer


async def test_the_transaction_timestamp_is_the_proposals(peer: FakePeer) -> None:
    before = datetime.now(UTC)
    result = (await peer.submit(doctor(REQUESTING), create_tx(new_transfer_id()))).result
    assert result.transfer is not None
    assert before <= result.transfer.created_at <= datetime.now(UTC)


async def test_a_replay_returns_the_first_result_and_writes_nothing(peer: FakePeer) -> None:
    event_id = uuid.uuid4()
    tx = create_tx(new_transfer_id())
    first = await peer.submit(doctor(REQUESTING), tx, event_id=event_id)
    state_before = dict(peer.state)

    replay = await peer.submit(doctor(REQUESTING), tx, event_id=event_id)

    assert replay.status == 200
    assert replay.result == first.result
    assert replay.result.tx_id == first.message.txid != replay.message.txid
    assert not replay.has_event
    assert "PUT_STATE" not in replay.requests
    assert peer.state == state_before


async def test_another_command_under_a_used_event_id_is_refused_and_writes_nothing(
    peer: FakePeer,
) -> None:
    event_id = uuid.uuid4()
    await peer.submit(doctor(REQUESTING), create_tx(new_transfer_id()), event_id=event_id)
    state_before = dict(peer.state)

    other = await peer.submit(doctor(REQUESTING), create_tx(new_transfer_id()), event_id=event_id)

    assert other.error["code"] == "EVENT_ID_CONFLICT"
    assert not other.has_event
    assert peer.state == state_before


async def test_a_command_signed_by_another_members_identity_is_refused(peer: FakePeer) -> None:
    transfer_id = new_transfer_id()
    reply = await peer.submit(doctor(REQUESTING), create_tx(transfer_id), msp=SOURCE)

    assert reply.error["code"] == "WRONG_SIGNER"
    assert reply.error["current_state"] is None
    assert not reply.has_event
    assert composite_key("transfer", transfer_id) not in peer.state


async def test_a_creator_outside_the_network_is_refused(peer: FakePeer) -> None:
    reply = await peer.submit(
        doctor(REQUESTING), create_tx(new_transfer_id()), msp="CurexOrdererMSP"
    )
    assert reply.error["code"] == "WRONG_SIGNER"


async def test_an_illegal_transition_names_the_current_state(peer: FakePeer) -> None:
    transfer_id = new_transfer_id()
    await peer.submit(doctor(REQUESTING), create_tx(transfer_id))

    reply = await peer.submit(
        system(SOURCE), ApplyActionTx(transfer_id=transfer_id, action=Action.DECLARE_AVAILABLE)
    )

    assert reply.error == {
        "code": "ILLEGAL_TRANSITION",
        "reason": "declare_available is not allowed from INITIALISED",
        "current_state": "INITIALISED",
    }


async def test_an_organisation_without_a_peer_is_signed_for_by_its_configured_host_only(
    peer: FakePeer,
) -> None:
    assert (await peer.submit(system(HOSTED), policy(HOSTED), msp=SOURCE)).status == 200
    assert (await peer.submit(system(HOSTED), scores(HOSTED), msp=SOURCE)).status == 200

    for tx in (policy(HOSTED), scores(HOSTED)):
        refused = await peer.submit(system(HOSTED), tx, msp=REQUESTING)
        assert refused.error["code"] == "WRONG_SIGNER"
    unknown = f"FR-{uuid.uuid4().hex[:8].upper()}"
    assert (await peer.submit(system(unknown), policy(unknown), msp=SOURCE)).error[
        "code"
    ] == "WRONG_SIGNER"


async def test_history_lists_transitions_oldest_first(peer: FakePeer) -> None:
    for org in (REQUESTING, SOURCE):
        assert (await peer.submit(system(org), policy(org))).status == 200
        assert (await peer.submit(system(org), scores(org))).status == 200
    transfer_id = new_transfer_id()
    created = await peer.submit(doctor(REQUESTING), create_tx(transfer_id))
    audited = await peer.submit(system(REQUESTING), AuditRiskTx(transfer_id=transfer_id))
    patient = Actor(user_id=PATIENT, org=SOURCE, role=Role.PATIENT)
    consented = await peer.submit(
        patient, ApplyActionTx(transfer_id=transfer_id, action=Action.GRANT_CONSENT)
    )
    assert consented.result.transfer is not None
    assert consented.result.transfer.state is TransferState.PATIENT_ACCEPTED

    reply = await peer.invoke("history", transfer_id, msp=REQUESTING)

    history = json.loads(reply.response.payload)
    assert [entry["tx_id"] for entry in history] == [
        created.message.txid,
        audited.message.txid,
        consented.message.txid,
    ]
    transitions = [Transition.model_validate(entry["transition"]) for entry in history]
    assert [t.to_state for t in transitions] == [
        TransferState.INITIALISED,
        TransferState.RISK_ACCEPTED,
        TransferState.PATIENT_ACCEPTED,
    ]
    assert reply.requests.count("QUERY_STATE_NEXT") == 1


async def test_reads_of_an_unknown_transfer(peer: FakePeer) -> None:
    transfer = await peer.invoke("transfer", new_transfer_id(), msp=SOURCE)
    history = await peer.invoke("history", new_transfer_id(), msp=SOURCE)
    assert (transfer.status, transfer.response.payload) == (200, b"")
    assert (history.status, json.loads(history.response.payload)) == (200, [])


@pytest.mark.parametrize(
    "args",
    [
        ("nonsense",),
        ("submit",),
        ("submit", "{not json"),
        ("submit", '{"type": "ledger_command"}'),
        ("transfer_ids", "by-nothing", "x"),
        (),
    ],
)
async def test_bad_arguments_are_invalid(peer: FakePeer, args: tuple[str, ...]) -> None:
    reply = await peer.invoke(*args, msp=SOURCE)
    assert reply.error["code"] == "INVALID_ARGUMENT"


async def test_a_validation_error_does_not_quote_the_input(peer: FakePeer) -> None:
    command = json.loads(
        LedgerCommand(
            actor=doctor(REQUESTING), tx=create_tx(new_transfer_id()), correlation_id="c"
        ).model_dump_json()
    )
    command["tx"]["patient_pseudonym"] = "Jane Doe 1970-01-01"
    reply = await peer.invoke("submit", json.dumps(command), msp=REQUESTING)
    assert reply.error["code"] == "INVALID_ARGUMENT"
    assert "Jane" not in (reply.error["reason"] or "")
    assert "tx.create_transfer.patient_pseudonym" in (reply.error["reason"] or "")


async def test_a_corrupt_record_is_a_contract_failure(peer: FakePeer) -> None:
    transfer_id = new_transfer_id()
    peer.state[composite_key("transfer", transfer_id)] = b"{broken"
    reply = await peer.invoke("transfer", transfer_id, msp=SOURCE)
    assert reply.error["code"] == "CONTRACT_FAILURE"
