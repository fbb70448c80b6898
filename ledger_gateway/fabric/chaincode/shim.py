"""Chaincode as a service: the peer opens ``Chaincode.Connect`` to us and the two chat.

The chat on one stream: we send REGISTER (our package id), the peer answers REGISTERED
and READY; from then on TRANSACTION (and INIT) messages arrive, many at once. Each runs
in a worker thread; while it runs it asks the peer for state (GET_STATE, PUT_STATE, range
and history queries, ...) with the transaction's channel id and tx id, and the peer's
RESPONSE or ERROR comes back on the same stream, matched by (channel id, tx id). A
transaction ends with COMPLETED carrying a ``peer.Response`` and its chaincode event.

Every message we send goes through one queue that feeds the response stream, so writes
are never interleaved; every pending request lives on the event loop, so routing needs no
lock. A lost stream fails its pending requests at once; the peer reconnects and registers
again on a new stream.
"""

import asyncio
import concurrent.futures
import contextlib
import enum
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeAlias

import grpc
import structlog
from fabric_protos.peer import (
    chaincode_event_pb2,
    chaincode_pb2,
    chaincode_shim_pb2,
    chaincode_shim_pb2_grpc,
    proposal_pb2,
    proposal_response_pb2,
)

ChaincodeMessage = chaincode_shim_pb2.ChaincodeMessage
MessageType: TypeAlias = ChaincodeMessage.Type.ValueType

ERROR_STATUS = 500  # Fabric's shim.ERROR; 400 and above fail the endorsement
_MAX_MESSAGE = 100 * 1024 * 1024  # the peer's default gRPC message limit
_SERVER_OPTIONS = [
    ("grpc.max_send_message_length", _MAX_MESSAGE),
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    # The peer keeps its connection alive with pings; do not answer them with GOAWAY.
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 5_000),
    ("grpc.http2.max_ping_strikes", 0),
]


class PeerError(Exception):
    """The peer refused a request, did not answer it, or the stream is gone."""


@dataclass(frozen=True, slots=True)
class Invocation:
    channel_id: str
    tx_id: str
    args: tuple[bytes, ...]
    signed_proposal: proposal_pb2.SignedProposal | None


@dataclass(frozen=True, slots=True)
class Outcome:
    response: proposal_response_pb2.Response
    event: chaincode_event_pb2.ChaincodeEvent | None = None


class PeerLink(Protocol):
    """What a running transaction uses to ask the peer something."""

    def call(self, kind: MessageType, payload: bytes) -> bytes:
        """Send a request for this transaction; the RESPONSE payload, or PeerError."""
        ...


Chaincode = Callable[[Invocation, PeerLink], Outcome]

_TxKey = tuple[str, str]  # (channel id, tx id)


class _State(enum.Enum):
    CREATED = "created"  # REGISTER sent, waiting for REGISTERED
    ESTABLISHED = "established"  # waiting for READY
    READY = "ready"


def _name(kind: MessageType) -> str:
    return ChaincodeMessage.Type.Name(kind)


class _TxLink:
    """A transaction's requests to the peer, made from its worker thread."""

    def __init__(self, session: "_Session", channel_id: str, tx_id: str, timeout_s: float) -> None:
        self._session = session
        self._channel_id = channel_id
        self._tx_id = tx_id
        self._timeout_s = timeout_s
        self.finished = False

    def call(self, kind: MessageType, payload: bytes) -> bytes:
        if self.finished:
            raise PeerError("the transaction has already completed")
        if self._session.closed:  # fail at once, even while the event loop is busy stopping
            raise PeerError("the peer's stream is gone")
        request = ChaincodeMessage(
            type=kind, payload=payload, txid=self._tx_id, channel_id=self._channel_id
        )
        try:
            pending = asyncio.run_coroutine_threadsafe(
                self._session.request(request), self._session.loop
            )
        except RuntimeError as err:  # the event loop is closed: the server is stopping
            raise PeerError("the chaincode server is stopping") from err
        try:
            reply = pending.result(self._timeout_s)
        except concurrent.futures.TimeoutError as err:
            pending.cancel()
            raise PeerError(f"no answer to {_name(kind)} in {self._timeout_s} s") from err
        if reply.type == ChaincodeMessage.RESPONSE:
            return reply.payload
        if reply.type == ChaincodeMessage.ERROR:
            raise PeerError(reply.payload.decode(errors="replace"))
        raise PeerError(f"unexpected {_name(reply.type)} in answer to {_name(kind)}")


class _Session:
    """One Connect stream: registration, routing of answers, running transactions."""

    def __init__(
        self,
        chaincode_id: str,
        chaincode: Chaincode,
        executor: concurrent.futures.Executor,
        request_timeout_s: float,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self._chaincode_id = chaincode_id
        self._chaincode = chaincode
        self._executor = executor
        self._request_timeout_s = request_timeout_s
        self._outbox: asyncio.Queue[ChaincodeMessage | None] = asyncio.Queue()
        self._waiting: dict[_TxKey, asyncio.Future[ChaincodeMessage]] = {}
        self._running: set[_TxKey] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._state = _State.CREATED
        self._closed = False
        self._log = structlog.get_logger().bind(chaincode_id=chaincode_id)

    # ---- the single writer ---------------------------------------------------------

    def _send(self, message: ChaincodeMessage) -> None:
        if not self._closed:
            self._outbox.put_nowait(message)

    async def outgoing(self) -> AsyncIterator[ChaincodeMessage]:
        register = chaincode_pb2.ChaincodeID(name=self._chaincode_id)
        yield ChaincodeMessage(type=ChaincodeMessage.REGISTER, payload=register.SerializeToString())
        while (message := await self._outbox.get()) is not None:
            yield message

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._outbox.put_nowait(None)
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(PeerError("the peer's stream is gone"))
        self._waiting.clear()

    # ---- requests from transactions (called on the loop) -----------------------------

    async def request(self, message: ChaincodeMessage) -> ChaincodeMessage:
        if self._closed:
            raise PeerError("the peer's stream is gone")
        key = (message.channel_id, message.txid)
        if key in self._waiting:
            raise PeerError("a request of this transaction is already waiting")
        future: asyncio.Future[ChaincodeMessage] = self.loop.create_future()
        self._waiting[key] = future
        self._send(message)
        try:
            return await future
        finally:
            if self._waiting.get(key) is future:
                del self._waiting[key]

    # ---- messages from the peer --------------------------------------------------------

    async def read(self, requests: AsyncIterator[ChaincodeMessage]) -> None:
        try:
            async for message in requests:
                self._receive(message)
                if self._closed:
                    break
        except Exception as err:  # noqa: BLE001 - a broken stream; the peer connects again
            self._log.info("peer stream ended", error_type=type(err).__name__)
        finally:
            self.close()

    def _receive(self, message: ChaincodeMessage) -> None:
        kind = message.type
        if kind == ChaincodeMessage.KEEPALIVE:
            self._send(message)
        elif self._state is _State.CREATED and kind == ChaincodeMessage.REGISTERED:
            self._state = _State.ESTABLISHED
        elif self._state is _State.ESTABLISHED and kind == ChaincodeMessage.READY:
            self._state = _State.READY
            self._log.info("registered with peer")
        elif self._state is not _State.READY:
            self._log.warning(
                "unexpected message, closing", type=_name(kind), state=self._state.value
            )
            self._reply_error(message, f"cannot handle {_name(kind)} while {self._state.value}")
            self.close()
        elif kind in (ChaincodeMessage.RESPONSE, ChaincodeMessage.ERROR):
            future = self._waiting.get((message.channel_id, message.txid))
            if future is None or future.done():
                self._log.warning("answer nobody waits for", type=_name(kind), tx_id=message.txid)
            else:
                future.set_result(message)
        elif kind in (ChaincodeMessage.TRANSACTION, ChaincodeMessage.INIT):
            task = asyncio.create_task(self._execute(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._reply_error(message, f"cannot handle {_name(kind)}")

    def _reply_error(self, message: ChaincodeMessage, text: str) -> None:
        self._send(
            ChaincodeMessage(
                type=ChaincodeMessage.ERROR,
                payload=text.encode(),
                txid=message.txid,
                channel_id=message.channel_id,
            )
        )

    # ---- transactions ------------------------------------------------------------------

    async def _execute(self, message: ChaincodeMessage) -> None:
        key = (message.channel_id, message.txid)
        if key in self._running:
            self._reply_error(message, "this transaction is already executing")
            return
        self._running.add(key)
        link = _TxLink(self, message.channel_id, message.txid, self._request_timeout_s)
        try:
            reply = await self.loop.run_in_executor(self._executor, self._run, message, link)
        except Exception:  # noqa: BLE001 - the pool refused the work: the server is stopping
            self._log.exception("transaction not run", tx_id=message.txid)
            reply = _completed(message, _failure("the chaincode server is stopping"))
        finally:
            link.finished = True
            self._running.discard(key)
        self._send(reply)

    def _run(self, message: ChaincodeMessage, link: _TxLink) -> ChaincodeMessage:
        """In a worker thread: the chaincode's verdict, never an exception."""
        try:
            chaincode_input = chaincode_pb2.ChaincodeInput.FromString(message.payload)
            invocation = Invocation(
                channel_id=message.channel_id,
                tx_id=message.txid,
                args=tuple(chaincode_input.args),
                signed_proposal=message.proposal if message.HasField("proposal") else None,
            )
            outcome = self._chaincode(invocation, link)
        except Exception as err:  # noqa: BLE001 - a defect of the chaincode layer: answer, never hang
            self._log.error("chaincode raised", tx_id=message.txid, error_type=type(err).__name__)
            outcome = _failure("the chaincode failed")
        return _completed(message, outcome)


def _failure(message: str) -> Outcome:
    return Outcome(proposal_response_pb2.Response(status=ERROR_STATUS, message=message))


def _completed(request: ChaincodeMessage, outcome: Outcome) -> ChaincodeMessage:
    response = outcome.response
    if request.type == ChaincodeMessage.INIT and response.status >= 400:
        # The peer reads a failed INIT from an ERROR message, as the Go shim sends it.
        completed = ChaincodeMessage(type=ChaincodeMessage.ERROR, payload=response.message.encode())
    else:
        completed = ChaincodeMessage(
            type=ChaincodeMessage.COMPLETED, payload=response.SerializeToString()
        )
    completed.txid = request.txid
    completed.channel_id = request.channel_id
    if outcome.event is not None:
        completed.chaincode_event.CopyFrom(outcome.event)
    return completed


class ChaincodeService(chaincode_shim_pb2_grpc.ChaincodeServicer):
    """The ``protos.Chaincode`` service the peer connects to."""

    def __init__(
        self,
        chaincode_id: str,
        chaincode: Chaincode,
        executor: concurrent.futures.Executor,
        request_timeout_s: float = 30.0,
    ) -> None:
        self._chaincode_id = chaincode_id
        self._chaincode = chaincode
        self._executor = executor
        self._request_timeout_s = request_timeout_s

    async def Connect(
        self,
        request_iterator: AsyncIterator[ChaincodeMessage] | Iterator[ChaincodeMessage],
        context: object,
    ) -> AsyncIterator[ChaincodeMessage]:
        assert isinstance(request_iterator, AsyncIterator), "served by grpc.aio only"
        session = _Session(
            self._chaincode_id, self._chaincode, self._executor, self._request_timeout_s
        )
        reader = asyncio.create_task(session.read(request_iterator))
        try:
            async for message in session.outgoing():
                yield message
        finally:
            session.close()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


async def start_server(
    address: str,
    chaincode_id: str,
    chaincode: Chaincode,
    executor: concurrent.futures.Executor,
) -> tuple[grpc.aio.Server, int]:
    """A started plaintext server and the port it listens on (``host:0`` picks one)."""
    server = grpc.aio.server(options=_SERVER_OPTIONS)
    chaincode_shim_pb2_grpc.add_ChaincodeServicer_to_server(
        ChaincodeService(chaincode_id, chaincode, executor), server
    )
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    await server.start()
    return server, port
