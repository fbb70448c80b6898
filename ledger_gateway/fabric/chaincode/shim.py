"""Chaincode as a service: the peer opens ``Chaincode.Connect`` to us and the two chat.

The chat on one stream: we send REGISTER (our package id), the peer answers REGISTERED
and READY; from then on TRANSACTION (and INIT) messages arrive, many at once. Each runs
in a worker thread; while it runs it asks the peer for state (GET_STATE, PUT_STATE, range
and history queries, ...) with the transaction's channel id and tx id, and the peer's
RESPONSE or ERROR comes back on the same stream, matched by (channel id, tx id). A
transaction ends with COMPLETED carrying a ``peer.Response`` and its chaincode event.

Threads, no event loop: gRPC's own thread writes the stream from one queue, so writes are
never interleaved; a reader thread routes the peer's answers to the waiting transaction.
A lost stream fails its pending requests at once; the peer reconnects and registers again
on a new stream.
"""

import concurrent.futures
import enum
import queue
import threading
from collections.abc import Callable, Iterator
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
_STREAMS = 16  # concurrent Connect streams (one per peer that runs us, and reconnects)


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
        request = ChaincodeMessage(
            type=kind, payload=payload, txid=self._tx_id, channel_id=self._channel_id
        )
        pending = self._session.post(request)
        try:
            reply = pending.result(self._timeout_s)
        except concurrent.futures.TimeoutError as err:
            self._session.forget(request, pending)
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
        self._chaincode_id = chaincode_id
        self._chaincode = chaincode
        self._executor = executor
        self._request_timeout_s = request_timeout_s
        self._outbox: queue.SimpleQueue[ChaincodeMessage | None] = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards everything below
        self._waiting: dict[_TxKey, concurrent.futures.Future[ChaincodeMessage]] = {}
        self._running: set[_TxKey] = set()
        self._closed = False
        self._state = _State.CREATED  # only the reader thread changes it
        self._log = structlog.get_logger().bind(chaincode_id=chaincode_id)

    # ---- the single writer ---------------------------------------------------------

    def _send(self, message: ChaincodeMessage) -> None:
        if not self._closed:
            self._outbox.put(message)

    def outgoing(self) -> Iterator[ChaincodeMessage]:
        """What gRPC writes to the stream, in order, until the session closes."""
        register = chaincode_pb2.ChaincodeID(name=self._chaincode_id)
        yield ChaincodeMessage(type=ChaincodeMessage.REGISTER, payload=register.SerializeToString())
        while (message := self._outbox.get()) is not None:
            yield message

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Ends the stream; every waiting request fails. Safe from any thread, repeatedly."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            waiting = list(self._waiting.values())
            self._waiting.clear()
        self._outbox.put(None)
        for future in waiting:
            future.set_exception(PeerError("the peer's stream is gone"))

    # ---- requests from transactions (worker threads) ---------------------------------

    def post(self, message: ChaincodeMessage) -> concurrent.futures.Future[ChaincodeMessage]:
        """Sends ``message``; the future of the peer's answer."""
        key = (message.channel_id, message.txid)
        future: concurrent.futures.Future[ChaincodeMessage] = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                raise PeerError("the peer's stream is gone")
            if key in self._waiting:
                raise PeerError("a request of this transaction is already waiting")
            self._waiting[key] = future
        self._outbox.put(message)
        return future

    def forget(
        self, message: ChaincodeMessage, future: concurrent.futures.Future[ChaincodeMessage]
    ) -> None:
        """Stops waiting for an answer (a timeout); a late answer is then ignored."""
        key = (message.channel_id, message.txid)
        with self._lock:
            if self._waiting.get(key) is future:
                del self._waiting[key]

    # ---- messages from the peer (the reader thread) ------------------------------------

    def read(self, requests: Iterator[ChaincodeMessage]) -> None:
        try:
            for message in requests:
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
            state = self._state.value
            self._log.warning("unexpected message, closing", type=_name(kind), state=state)
            self._reply_error(message, f"cannot handle {_name(kind)} while {state}")
            self.close()
        elif kind in (ChaincodeMessage.RESPONSE, ChaincodeMessage.ERROR):
            with self._lock:
                future = self._waiting.pop((message.channel_id, message.txid), None)
            if future is None:
                self._log.warning("answer nobody waits for", type=_name(kind), tx_id=message.txid)
            else:
                future.set_result(message)
        elif kind in (ChaincodeMessage.TRANSACTION, ChaincodeMessage.INIT):
            self._start(message)
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

    def _start(self, message: ChaincodeMessage) -> None:
        key = (message.channel_id, message.txid)
        with self._lock:
            duplicate = key in self._running
            self._running.add(key)
        if duplicate:
            self._reply_error(message, "this transaction is already executing")
            return
        try:
            self._executor.submit(self._execute, message)
        except RuntimeError:  # the pool is shut down: the server is stopping
            with self._lock:
                self._running.discard(key)
            self._send(_completed(message, _failure("the chaincode server is stopping")))

    def _execute(self, message: ChaincodeMessage) -> None:
        """In a worker thread: run the chaincode and send its verdict, never raise."""
        link = _TxLink(self, message.channel_id, message.txid, self._request_timeout_s)
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
        finally:
            link.finished = True
            with self._lock:
                self._running.discard((message.channel_id, message.txid))
        self._send(_completed(message, outcome))


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
    """The ``protos.Chaincode`` service the peer connects to (a sync gRPC server)."""

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

    def Connect(
        self,
        request_iterator: Iterator[ChaincodeMessage],
        context: grpc.ServicerContext,
    ) -> Iterator[ChaincodeMessage]:
        session = _Session(
            self._chaincode_id, self._chaincode, self._executor, self._request_timeout_s
        )
        # However the RPC ends (the peer goes away, the server stops), the session closes.
        context.add_callback(session.close)
        threading.Thread(
            target=session.read, args=(request_iterator,), name="chaincode-stream", daemon=True
        ).start()
        return session.outgoing()


def start_server(
    address: str,
    chaincode_id: str,
    chaincode: Chaincode,
    executor: concurrent.futures.Executor,
) -> tuple[grpc.Server, int]:
    """A started plaintext server and the port it listens on (``host:0`` picks one)."""
    server = grpc.server(
        concurrent.futures.ThreadPoolExecutor(_STREAMS, thread_name_prefix="chaincode-grpc"),
        options=_SERVER_OPTIONS,
        maximum_concurrent_rpcs=_STREAMS,
    )
    chaincode_shim_pb2_grpc.add_ChaincodeServicer_to_server(
        ChaincodeService(chaincode_id, chaincode, executor), server
    )
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    server.start()
    return server, port
