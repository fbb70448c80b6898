"""A transaction's requests as the peer sees them while the chaincode is run again and
again: each request asked once and in order, and a refusal seen where it was asked."""

import hashlib
import json
import uuid

from tests.unit.fake_peer import (
    REQUESTING,
    SOURCE,
    FakePeer,
    create_tx,
    doctor,
    new_transfer_id,
)


async def test_transfer_ids_pages_through_the_range(peer: FakePeer) -> None:
    org_patient = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    ids = sorted(new_transfer_id() for _ in range(5))
    for transfer_id in ids:
        tx = create_tx(transfer_id).model_copy(update={"patient_pseudonym": org_patient})
        assert (await peer.submit(doctor(REQUESTING), tx)).status == 200

    reply = await peer.invoke("transfer_ids", "by-patient", org_patient, msp=SOURCE)

    assert json.loads(reply.response.payload) == ids
    assert reply.requests.count("QUERY_STATE_NEXT") == 2  # pages of 2, 2 and 1
    assert "QUERY_STATE_CLOSE" not in reply.requests


async def test_a_refused_request_is_a_contract_failure(peer: FakePeer) -> None:
    peer.fail_on = {"GET_HISTORY_FOR_KEY"}
    reply = await peer.invoke("history", new_transfer_id(), msp=SOURCE)
    assert reply.error["code"] == "CONTRACT_FAILURE"


async def test_a_query_abandoned_mid_way_is_closed(peer: FakePeer) -> None:
    org_patient = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    for _ in range(3):
        tx = create_tx(new_transfer_id()).model_copy(update={"patient_pseudonym": org_patient})
        assert (await peer.submit(doctor(REQUESTING), tx)).status == 200
    peer.fail_on = {"QUERY_STATE_NEXT"}

    reply = await peer.invoke("transfer_ids", "by-patient", org_patient, msp=SOURCE)

    assert reply.error["code"] == "CONTRACT_FAILURE"
    assert reply.requests[-2:] == ["QUERY_STATE_NEXT", "QUERY_STATE_CLOSE"]
