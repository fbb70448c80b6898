"""The chaincode server's shim, driven over real gRPC by a fake peer with a dict world state.

The fake peer does what a Fabric peer does on the chaincode stream: it answers REGISTER
with REGISTERED and READY, sends TRANSACTION messages with signed proposals, answers the
chaincode's state requests (answers come back in shuffled order), pages range and history
queries, and commits a transaction's writes when it completes with status 200.
"""

import asyncio
import hashlib
import json
import os
import random
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import grpc
import pytest
from fabric_protos.common import common_pb2
from fabric_protos.ledger.queryresult import kv_query_result_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import (
    chaincode_pb2,
    chaincode_shim_pb2,
    chaincode_shim_pb2_grpc,
    proposal_pb2,
    proposal_response_pb2,
)
from google.protobuf import timestamp_pb2

from ledger_gateway.chaincode import composite_key
from ledger_gateway.fabric.chaincode.functions import EVENT_NAME, ORG_HOST, TransferChaincode
from ledger_gateway.fabric.chaincode.shim import Invocation, Outcome, PeerLink, start_server
from ledger_gateway.fabric.chaincode.stub_store import StubStore
from schemas import (
    Action,
    Actor,
    ApplyActionTx,
    AuditRiskTx,
    CreateTransferTx,
    LedgerCommand,
    OrganisationPolicy,
    RecordRiskScoreTx,
    RiskAssessment,
    Role,
    SetPolicyTx,
    Transaction,
    Transfer,
    TransferState,
    Transition,
    TxResult,
)

Msg = chaincode_shim_pb2.ChaincodeMessage
CHANNEL = "curex"
CHAINCODE_ID = "curex-transfer:0123abcd"
REQUESTING = "SE-KI"
SOURCE = "ES-SERMAS"
MEMBERS = frozenset({REQUESTING, SOURCE})
PATIENT = hashlib.sha256(b"patient").hexdigest()
TIMEOUT_S = 20


def signed_proposal(msp_id: str, tx_id: str, at: datetime) -> proposal_pb2.SignedProposal:
    timestamp = timestamp_pb2.Timestamp()
    timestamp.FromDatetime(at)
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.ENDORSER_TRANSACTION, channel_id=CHANNEL, tx_id=tx_id, timestamp=timestamp
    )
    creator = identities_pb2.SerializedIdentity(mspid=msp_id, id_bytes=b"-----BEGIN CERT")
    signature_header = common_pb2.SignatureHeader(
        creator=creator.SerializeToString(), nonce=uuid.uuid4().bytes
    )
    header = common_pb2.Header(
        channel_header=channel_header.SerializeToString(),
        signature_header=signature_header.SerializeToString(),
    )
    proposal = proposal_pb2.Proposal(header=header.SerializeToString())
    return proposal_pb2.SignedProposal(
        proposal_bytes=proposal.SerializeToString(), signature=b"sig"
    )


@dataclass
class Reply:
    message: chaincode_shim_pb2.ChaincodeMessage
    requests: list[str]

    @property
    def response(self) -> proposal_response_pb2.Response:
        assert self.message.type == Msg.COMPLETED
        return proposal_response_pb2.Response.FromString(self.message.payload)

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def result(self) -> TxResult:
        assert self.status == 200, self.response.message
        return TxResult.model_validate_json(self.response.payload)

    @property
    def error(self) -> dict[str, str | None]:
        assert self.status == 500
        assert self.response.message.startswith("CUREX:")
        return json.loads(self.response.message.removeprefix("CUREX:"))  # type: ignore[no-any-return]

    @property
    def has_event(self) -> bool:
        return self.message.HasField("chaincode_event")


@dataclass
class _Tx:
    timestamp: datetime
    future: asyncio.Future[chaincode_shim_pb2.ChaincodeMessage]
    commit: bool
    writes: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    late: list[chaincode_shim_pb2.ChaincodeMessage] = field(default_factory=list)


class FakePeer:
    """The peer's side of one Connect stream."""

    def __init__(self, channel: grpc.aio.Channel, page_size: int = 2) -> None:
        self._stub = chaincode_shim_pb2_grpc.ChaincodeStub(channel)
        self.page_size = page_size
        self.state: dict[str, bytes] = {}
        self.history: dict[str, list[kv_query_result_pb2.KeyModification]] = {}
        self.registered_as = ""
        self.keepalives = 0
        self.unanswered: list[chaincode_shim_pb2.ChaincodeMessage] = []
        self.silent_on: set[str] = set()  # request types the peer never answers
        self.fail_on: set[str] = set()  # request types the peer answers with ERROR
        self._txs: dict[str, _Tx] = {}
        self._iterators: dict[str, list[bytes]] = {}
        self._outbox: asyncio.Queue[chaincode_shim_pb2.ChaincodeMessage | None] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._call: grpc.aio.StreamStreamCall | None = None
        self._reader: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self._outbox = asyncio.Queue()
        self._call = self._stub.Connect(self._requests())
        first = await asyncio.wait_for(self._call.read(), TIMEOUT_S)
        assert first.type == Msg.REGISTER
        self.registered_as = chaincode_pb2.ChaincodeID.FromString(first.payload).name
        self.send(Msg(type=Msg.REGISTERED))
        self.send(Msg(type=Msg.READY))
        self._reader = asyncio.create_task(self._read(self._call))

    async def disconnect(self) -> None:
        assert self._call is not None
        assert self._reader is not None
        self._call.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)

    def send(self, message: chaincode_shim_pb2.ChaincodeMessage) -> None:
        self._outbox.put_nowait(message)

    async def _requests(self) -> AsyncIterator[chaincode_shim_pb2.ChaincodeMessage]:
        outbox = self._outbox
        while (message := await outbox.get()) is not None:
            yield message

    async def _read(self, call: grpc.aio.StreamStreamCall) -> None:
        while True:
            message = await call.read()
            if message is grpc.aio.EOF:
                return
            self._receive(message)

    # ---- the chaincode's messages ----------------------------------------------------

    def _receive(self, message: chaincode_shim_pb2.ChaincodeMessage) -> None:
        if message.type == Msg.KEEPALIVE:
            self.keepalives += 1
            return
        tx = self._txs[message.txid]
        assert message.channel_id == CHANNEL
        if message.type in (Msg.COMPLETED, Msg.ERROR):
            self._finish(message.txid, tx, message)
            return
        tx.requests.append(Msg.Type.Name(message.type))
        if Msg.Type.Name(message.type) in self.silent_on:
            self.unanswered.append(message)
            return
        task = asyncio.create_task(self._answer(tx, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, tx: _Tx, message: chaincode_shim_pb2.ChaincodeMessage) -> None:
        for _ in range(random.randrange(5)):  # shuffle the order of answers between txs
            await asyncio.sleep(0)
        try:
            if Msg.Type.Name(message.type) in self.fail_on:
                raise KeyError("refused")
            kind, payload = Msg.RESPONSE, self._respond(tx, message)
        except KeyError as err:
            kind, payload = Msg.ERROR, f"no such thing: {err}".encode()
        self.send(Msg(type=kind, payload=payload, txid=message.txid, channel_id=CHANNEL))

    def _respond(self, tx: _Tx, message: chaincode_shim_pb2.ChaincodeMessage) -> bytes:
        match message.type:
            case Msg.GET_STATE:
                return self.state.get(
                    chaincode_shim_pb2.GetState.FromString(message.payload).key, b""
                )
            case Msg.PUT_STATE:
                put = chaincode_shim_pb2.PutState.FromString(message.payload)
                tx.writes[put.key] = put.value
                return b""
            case Msg.GET_STATE_BY_RANGE:
                query = chaincode_shim_pb2.GetStateByRange.FromString(message.payload)
                rows = [
                    kv_query_result_pb2.KV(namespace="curex-transfer", key=k, value=v)
                    for k, v in sorted(self.state.items())
                    if query.startKey <= k < query.endKey
                ]
                return self._page([row.SerializeToString() for row in rows], uuid.uuid4().hex)
            case Msg.GET_HISTORY_FOR_KEY:
                key = chaincode_shim_pb2.GetHistoryForKey.FromString(message.payload).key
                newest_first = reversed(self.history.get(key, []))
                return self._page([m.SerializeToString() for m in newest_first], uuid.uuid4().hex)
            case Msg.QUERY_STATE_NEXT:
                iterator = chaincode_shim_pb2.QueryStateNext.FromString(message.payload).id
                return self._page(self._iterators.pop(iterator), iterator)
            case Msg.QUERY_STATE_CLOSE:
                iterator = chaincode_shim_pb2.QueryStateClose.FromString(message.payload).id
                self._iterators.pop(iterator, None)
                return chaincode_shim_pb2.QueryResponse(id=iterator).SerializeToString()
        raise KeyError(Msg.Type.Name(message.type))

    def _page(self, results: list[bytes], iterator: str) -> bytes:
        page, rest = results[: self.page_size], results[self.page_size :]
        if rest:
            self._iterators[iterator] = rest
        return chaincode_shim_pb2.QueryResponse(
            results=[chaincode_shim_pb2.QueryResultBytes(resultBytes=r) for r in page],
            has_more=bool(rest),
            id=iterator,
        ).SerializeToString()

    def release(self) -> None:
        """Answers the requests held back by ``silent_on``, and holds back no more."""
        self.silent_on = set()
        held, self.unanswered = self.unanswered, []
        for message in held:
            task = asyncio.create_task(self._answer(self._txs[message.txid], message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _finish(self, tx_id: str, tx: _Tx, message: chaincode_shim_pb2.ChaincodeMessage) -> None:
        if tx.future.done():  # a second verdict for the same tx id
            tx.late.append(message)
            return
        ok = (
            message.type == Msg.COMPLETED
            and proposal_response_pb2.Response.FromString(message.payload).status == 200
        )
        if ok and tx.commit:
            timestamp = timestamp_pb2.Timestamp()
            timestamp.FromDatetime(tx.timestamp)
            for key, value in tx.writes.items():
                self.state[key] = value
                self.history.setdefault(key, []).append(
                    kv_query_result_pb2.KeyModification(
                        tx_id=tx_id, value=value, timestamp=timestamp
                    )
                )
        tx.future.set_result(message)

    # ---- transactions ----------------------------------------------------------------

    def start(
        self,
        *args: str,
        msp: str,
        commit: bool = True,
        tx_id: str | None = None,
        kind: int = Msg.TRANSACTION,
    ) -> str:
        tx_id = tx_id or uuid.uuid4().hex
        now = datetime.now(UTC)
        if tx_id not in self._txs:
            self._txs[tx_id] = _Tx(now, asyncio.get_running_loop().create_future(), commit)
        chaincode_input = chaincode_pb2.ChaincodeInput(args=[a.encode() for a in args])
        self.send(
            Msg(
                type=kind,
                txid=tx_id,
                channel_id=CHANNEL,
                payload=chaincode_input.SerializeToString(),
                proposal=signed_proposal(msp, tx_id, now),
            )
        )
        return tx_id

    async def result(self, tx_id: str) -> Reply:
        tx = self._txs[tx_id]
        message = await asyncio.wait_for(tx.future, TIMEOUT_S)
        return Reply(message, tx.requests)

    async def invoke(self, *args: str, msp: str, commit: bool = True) -> Reply:
        return await self.result(self.start(*args, msp=msp, commit=commit))

    async def submit(
        self,
        actor: Actor,
        tx: Transaction,
        *,
        msp: str | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Reply:
        command = LedgerCommand(
            actor=actor, tx=tx, correlation_id="test", event_id=event_id or uuid.uuid4()
        )
        return await self.invoke("submit", command.model_dump_json(), msp=msp or actor.org)


# ---- fixtures ----------------------------------------------------------------------------


@dataclass
class Server:
    port: int
    calls: list[tuple[str, Outcome]]  # (tx id, outcome) of every invocation, in order


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[Server]:
    contract = TransferChaincode(MEMBERS)
    calls: list[tuple[str, Outcome]] = []

    def chaincode(invocation: Invocation, link: PeerLink) -> Outcome:
        outcome = contract(invocation, link)
        calls.append((invocation.tx_id, outcome))
        return outcome

    chaincode_server = start_server("127.0.0.1:0", CHAINCODE_ID, chaincode)
    yield Server(chaincode_server.port, calls)
    await asyncio.to_thread(chaincode_server.stop, 5)


@pytest.fixture
async def channel(server: Server) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield channel


@pytest.fixture
async def peer(channel: grpc.aio.Channel) -> AsyncIterator[FakePeer]:
    fake = FakePeer(channel)
    await fake.connect()
    yield fake
    await fake.disconnect()


# ---- helpers ---------------------------------------------------------------------------


def doctor(org: str) -> Actor:
    return Actor(user_id=f"doctor@{org}", org=org, role=Role.HEALTH_PROFESSIONAL)


def system(org: str) -> Actor:
    return Actor(user_id="curex-processors", org=org, role=Role.SYSTEM)


def new_transfer_id() -> str:
    return f"tr-{uuid.uuid4().hex[:16]}"


def create_tx(transfer_id: str) -> CreateTransferTx:
    return CreateTransferTx(
        transfer_id=transfer_id,
        source_org=SOURCE,
        patient_pseudonym=PATIENT,
        emergency=False,
        reason="continuity of care",
    )


def policy(org: str) -> SetPolicyTx:
    return SetPolicyTx(
        policy=OrganisationPolicy(
            org_id=org, min_cybersecurity=70, min_privacy=60, consent_time_limit_s=3600
        )
    )


def scores(org: str) -> RecordRiskScoreTx:
    return RecordRiskScoreTx(
        assessment=RiskAssessment(
            org_id=org, cybersecurity_score=90, privacy_score=90, source="CAT"
        )
    )


# ---- tests -------------------------------------------------------------------------------


async def test_the_server_registers_with_its_package_id(peer: FakePeer) -> None:
    assert peer.registered_as == CHAINCODE_ID


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
    first = await peer.submit(doctor(REQUESTING), create_tx(new_transfer_id()), event_id=event_id)
    state_before = dict(peer.state)

    replay = await peer.submit(doctor(REQUESTING), create_tx(new_transfer_id()), event_id=event_id)

    assert replay.status == 200
    assert replay.result == first.result
    assert replay.result.tx_id == first.message.txid != replay.message.txid
    assert not replay.has_event
    assert "PUT_STATE" not in replay.requests
    assert peer.state == state_before


async def test_a_creator_of_another_msp_is_not_a_party(peer: FakePeer) -> None:
    transfer_id = new_transfer_id()
    reply = await peer.submit(doctor(REQUESTING), create_tx(transfer_id), msp=SOURCE)

    assert reply.error["code"] == "NOT_A_PARTY"
    assert reply.error["current_state"] is None
    assert not reply.has_event
    assert composite_key("transfer", transfer_id) not in peer.state


async def test_a_creator_outside_the_network_is_not_a_party(peer: FakePeer) -> None:
    reply = await peer.submit(
        doctor(REQUESTING), create_tx(new_transfer_id()), msp="CurexOrdererMSP"
    )
    assert reply.error["code"] == "NOT_A_PARTY"


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


async def test_a_non_member_org_is_hosted_by_the_member_that_set_its_policy(
    peer: FakePeer,
) -> None:
    org = f"FR-{uuid.uuid4().hex[:8].upper()}"
    unhosted = await peer.submit(system(org), scores(org), msp=SOURCE)
    assert unhosted.error["code"] == "NOT_A_PARTY"

    first = await peer.submit(system(org), policy(org), msp=SOURCE)
    assert first.result.policy is not None
    assert peer.state[composite_key(ORG_HOST, org)] == SOURCE.encode()

    assert (await peer.submit(system(org), scores(org), msp=SOURCE)).status == 200
    assert (await peer.submit(system(org), scores(org), msp=REQUESTING)).error[
        "code"
    ] == "NOT_A_PARTY"
    assert (await peer.submit(system(org), policy(org), msp=REQUESTING)).error[
        "code"
    ] == "NOT_A_PARTY"
    assert peer.state[composite_key(ORG_HOST, org)] == SOURCE.encode()


async def test_32_concurrent_transactions_on_one_stream(peer: FakePeer) -> None:
    transfer_ids = [new_transfer_id() for _ in range(40)]
    creates = {
        peer.start(
            "submit",
            LedgerCommand(
                actor=doctor(REQUESTING), tx=create_tx(t), correlation_id="c"
            ).model_dump_json(),
            msp=REQUESTING,
        ): t
        for t in transfer_ids
    }
    reads = [peer.start("transfer", t, msp=SOURCE) for t in transfer_ids[:8]]

    replies = {tx_id: await peer.result(tx_id) for tx_id in [*creates, *reads]}

    for tx_id, transfer_id in creates.items():
        result = replies[tx_id].result
        assert result.tx_id == tx_id
        assert result.transfer is not None
        assert result.transfer.transfer_id == transfer_id
        assert replies[tx_id].has_event
    for tx_id in reads:
        assert replies[tx_id].status == 200  # each saw the transfer, or not yet: no mix-up
        payload = replies[tx_id].response.payload
        assert not payload or Transfer.model_validate_json(payload).transfer_id in transfer_ids
    for transfer_id in transfer_ids:
        assert composite_key("transfer", transfer_id) in peer.state


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


async def test_init_runs_the_chaincode_and_fails_as_an_error_message(peer: FakePeer) -> None:
    ok = await peer.result(peer.start("transfer", new_transfer_id(), msp=SOURCE, kind=Msg.INIT))
    assert ok.status == 200
    failed = await peer.result(peer.start("nonsense", msp=SOURCE, kind=Msg.INIT))
    assert failed.message.type == Msg.ERROR
    assert failed.message.payload.startswith(b"CUREX:")


async def test_a_tx_id_already_executing_is_refused(peer: FakePeer) -> None:
    peer.silent_on = {"GET_STATE"}
    tx_id = peer.start("transfer", new_transfer_id(), msp=SOURCE)
    await poll(lambda: len(peer.unanswered) == 1)

    peer.start("transfer", new_transfer_id(), msp=SOURCE, tx_id=tx_id)
    duplicate = await peer.result(tx_id)
    assert duplicate.message.type == Msg.ERROR
    assert b"already executing" in duplicate.message.payload

    peer.release()
    tx = peer._txs[tx_id]
    await poll(lambda: len(tx.late) == 1)
    assert tx.late[0].type == Msg.COMPLETED


async def test_an_unexpected_message_is_answered_with_an_error(peer: FakePeer) -> None:
    tx_id = peer.start("transfer", new_transfer_id(), msp=SOURCE, kind=Msg.GET_STATE)
    reply = await peer.result(tx_id)
    assert reply.message.type == Msg.ERROR
    # The stream still works.
    assert (await peer.invoke("transfer", new_transfer_id(), msp=SOURCE)).status == 200


async def test_keepalives_are_echoed(peer: FakePeer) -> None:
    for _ in range(3):
        peer.send(Msg(type=Msg.KEEPALIVE))
    await poll(lambda: peer.keepalives == 3)


async def test_a_lost_stream_fails_its_transactions_and_the_peer_reconnects(
    channel: grpc.aio.Channel, server: Server
) -> None:
    stuck = FakePeer(channel)
    await stuck.connect()
    stuck.silent_on = {"GET_STATE"}
    tx_id = stuck.start("transfer", new_transfer_id(), msp=SOURCE)
    await poll(lambda: len(stuck.unanswered) == 1)

    await stuck.disconnect()  # the peer goes away while the chaincode waits for an answer

    await poll(lambda: any(t == tx_id for t, _ in server.calls))
    outcome = next(o for t, o in server.calls if t == tx_id)
    assert outcome.response.status == 500
    assert "CONTRACT_FAILURE" in outcome.response.message

    again = FakePeer(channel)
    again.state = stuck.state
    await again.connect()
    assert again.registered_as == CHAINCODE_ID
    reply = await again.submit(doctor(REQUESTING), create_tx(new_transfer_id()))
    assert reply.status == 200
    await again.disconnect()


async def test_two_peers_use_the_server_at_once(server: Server) -> None:
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as one,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as two,
    ):
        peers = [FakePeer(one), FakePeer(two)]
        for fake in peers:
            await fake.connect()
        transfer_id = new_transfer_id()
        replies = await asyncio.gather(
            *(fake.submit(doctor(REQUESTING), create_tx(transfer_id)) for fake in peers)
        )
        assert [r.result.transfer.transfer_id for r in replies if r.result.transfer] == [
            transfer_id
        ] * 2
        for fake in peers:
            await fake.disconnect()


# ---- the state store's own semantics, without a stream ---------------------------------


class DictLink:
    """A PeerLink over a dict: GET_STATE and range answers from committed state only."""

    def __init__(self, state: dict[str, bytes]) -> None:
        self.state = state

    def call(self, kind: int, payload: bytes) -> bytes:
        if kind == Msg.GET_STATE:
            return self.state.get(chaincode_shim_pb2.GetState.FromString(payload).key, b"")
        if kind == Msg.PUT_STATE:
            return b""
        assert kind == Msg.GET_STATE_BY_RANGE
        query = chaincode_shim_pb2.GetStateByRange.FromString(payload)
        rows = [
            chaincode_shim_pb2.QueryResultBytes(
                resultBytes=kv_query_result_pb2.KV(key=k, value=v).SerializeToString()
            )
            for k, v in sorted(self.state.items())
            if query.startKey <= k < query.endKey
        ]
        return chaincode_shim_pb2.QueryResponse(results=rows).SerializeToString()


def _store(state: dict[str, bytes]) -> StubStore:
    at = datetime(2026, 11, 26, 12, 0, 0, 123456, tzinfo=UTC)
    invocation = Invocation(CHANNEL, "tx-1", (), signed_proposal(SOURCE, "tx-1", at))
    return StubStore(invocation, DictLink(state))


def test_the_store_reads_its_own_writes() -> None:
    store = _store({"a": b"1", "c": b"3"})
    store.put_state("b", b"2")
    store.put_state("c", b"33")
    assert store.get_state("c") == b"33"
    assert list(store.get_state_by_range("a", "z")) == [("a", b"1"), ("b", b"2"), ("c", b"33")]
    assert list(store.get_state_by_range("b", "c")) == [("b", b"2")]
    assert store.wrote


def test_the_store_knows_the_creator_and_the_time() -> None:
    store = _store({})
    assert store.creator.msp_id == SOURCE
    assert store.get_tx_timestamp() == datetime(2026, 11, 26, 12, 0, 0, 123456, tzinfo=UTC)
    assert store.get_tx_id() == "tx-1"
    assert not store.wrote
    with pytest.raises(ValueError, match="empty value"):
        store.put_state("k", b"")


async def poll(condition: Callable[[], bool], timeout_s: float = TIMEOUT_S) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


# ---- the server process ----------------------------------------------------------------


async def _start_process(port: int = 0) -> tuple[asyncio.subprocess.Process, int]:
    env = {
        **os.environ,
        "CUREX_CHAINCODE_ID": CHAINCODE_ID,
        "CUREX_CHAINCODE_ADDRESS": f"127.0.0.1:{port}",
        "CUREX_FABRIC_MEMBERS": ",".join(sorted(MEMBERS)),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ledger_gateway.fabric.chaincode",
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    stderr = process.stderr
    assert stderr is not None
    async with asyncio.timeout(TIMEOUT_S):
        while line := await stderr.readline():
            record = json.loads(line)
            if record["event"] == "chaincode server started":
                assert record["service"] == "chaincode"
                break
        else:
            raise AssertionError("the chaincode server did not start")

    async def drain() -> None:  # a full pipe would block the server's logging
        while await stderr.read(65536):
            pass

    task = asyncio.create_task(drain())
    _drains.add(task)
    task.add_done_callback(_drains.discard)
    return process, int(record["port"])


_drains: set[asyncio.Task[None]] = set()


async def test_the_server_process_restarts_and_the_peer_reconnects() -> None:
    process, port = await _start_process()
    state: dict[str, bytes] = {}
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            peer = FakePeer(channel)
            peer.state = state
            await peer.connect()
            transfer_id = new_transfer_id()
            assert (await peer.submit(doctor(REQUESTING), create_tx(transfer_id))).status == 200

            process.kill()  # kill -9: no goodbye on the stream
            await process.wait()
            await peer.disconnect()  # the peer sees its stream break
            process, _ = await _start_process(port)

            again = FakePeer(channel)
            again.state = state
            await again.connect()
            reply = await again.invoke("transfer", transfer_id, msp=SOURCE)
            assert Transfer.model_validate_json(reply.response.payload).transfer_id == transfer_id
            await again.disconnect()
        process.terminate()
        assert await asyncio.wait_for(process.wait(), TIMEOUT_S) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
