"""A fake Fabric peer with a dict world state, to drive the chaincode server over real gRPC.

The fake peer does what a Fabric peer does on the chaincode stream: it answers REGISTER
with REGISTERED and READY, sends TRANSACTION messages with signed proposals, answers the
chaincode's state requests (answers come back in shuffled order), pages range and history
queries, and commits a transaction's writes when it completes with status 200.
"""

import asyncio
import contextlib
import hashlib
import json
import random
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import grpc
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

from ledger_gateway.fabric.chaincode.functions import TransferChaincode
from ledger_gateway.fabric.chaincode.replay import Invocation, Outcome, PeerLink
from ledger_gateway.fabric.chaincode.server import start_server
from schemas import (
    Actor,
    CreateTransferTx,
    LedgerCommand,
    PurposeOfUse,
    Role,
    Transaction,
    TxResult,
)
from schemas.network import Network

Msg = chaincode_shim_pb2.ChaincodeMessage
CHANNEL = "curex"
CHAINCODE_ID = "curex-transfer:0123abcd"
REQUESTING = "SE-KI"
SOURCE = "ES-SERMAS"
HOSTED = "FR-APHP"
NETWORK = Network(members=(SOURCE, REQUESTING), hosting={HOSTED: SOURCE})
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


@dataclass
class Server:
    port: int
    calls: list[tuple[str, Outcome]]  # (tx id, outcome) of every invocation, in order


@contextlib.asynccontextmanager
async def chaincode_server() -> AsyncIterator[Server]:
    """The transfer chaincode served on a free port, recording every outcome it gives."""
    contract = TransferChaincode(NETWORK)
    calls: list[tuple[str, Outcome]] = []

    def chaincode(invocation: Invocation, link: PeerLink) -> Outcome:
        outcome = contract(invocation, link)
        calls.append((invocation.tx_id, outcome))
        return outcome

    running = start_server("127.0.0.1:0", CHAINCODE_ID, chaincode)
    yield Server(running.port, calls)
    await asyncio.to_thread(running.stop, 5)


@contextlib.asynccontextmanager
async def connected_peer(channel: grpc.aio.Channel) -> AsyncIterator[FakePeer]:
    """A fake peer registered with the server over ``channel``, disconnected on exit."""
    fake = FakePeer(channel)
    await fake.connect()
    yield fake
    await fake.disconnect()


async def poll(condition: Callable[[], bool], timeout_s: float = TIMEOUT_S) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def doctor(org: str) -> Actor:
    return Actor(user_id=f"doctor@{org}", org=org, role=Role.HEALTH_PROFESSIONAL)


def new_transfer_id() -> str:
    return f"tr-{uuid.uuid4().hex[:16]}"


def create_tx(transfer_id: str) -> CreateTransferTx:
    return CreateTransferTx(
        transfer_id=transfer_id,
        source_org=SOURCE,
        patient_pseudonym=PATIENT,
        emergency=False,
        purpose=PurposeOfUse.COC,
    )
