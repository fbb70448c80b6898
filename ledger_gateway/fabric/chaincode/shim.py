"""Chaincode as a service: the peer opens ``Chaincode.Connect`` to us and the two chat.

The chat on one stream: we send REGISTER (our package id), the peer answers REGISTERED
and READY; from then on TRANSACTION (and INIT) messages arrive, many at once. While a
transaction runs it asks the peer for state (GET_STATE, PUT_STATE, range and history
queries, ...) with the transaction's channel id and tx id, one request at a time, and the
peer's RESPONSE or ERROR comes back on the same stream, matched by (channel id, tx id). A
transaction ends with COMPLETED carrying a ``peer.Response`` and its chaincode event.

One event loop in one thread does everything: grpclib (gRPC over the pure-Python h2 HTTP/2
stack) reads and writes the streams, and the chaincode (synchronous code) runs in the loop
between messages. grpcio is not used here: its C core moves every message between its own
threads and the Python loop's, and those thread switches cost several times more CPU per
transaction than the contract itself.

A chaincode never blocks on the peer: its link knows the answers received so far, in
order; a request past them stops the run (``_Suspend``), the request goes to the peer, and
once it is answered the chaincode runs again from the start, getting every earlier answer
from the record. This asks of a chaincode what Fabric asks anyway: to be deterministic
(the same answers, the same requests), and not to catch ``BaseException``. Writes
(PUT_STATE, DEL_STATE) answer nothing but success, so a run goes on past them and they are
sent, in order, before the next read or before COMPLETED; a refused write makes the
chaincode run again and see the refusal where it wrote. The peer answers reads from
committed state, never from the transaction's own writes, so a write sent later changes
no answer.
"""

import asyncio
import contextlib
import socket
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeAlias

import structlog
from fabric_protos.peer import (
    chaincode_event_pb2,
    chaincode_pb2,
    chaincode_shim_pb2,
    proposal_pb2,
    proposal_response_pb2,
)
from grpclib.const import Cardinality, Handler
from grpclib.protocol import H2Protocol
from grpclib.server import Server, Stream

ChaincodeMessage = chaincode_shim_pb2.ChaincodeMessage
MessageType: TypeAlias = ChaincodeMessage.Type.ValueType

ERROR_STATUS = 500  # Fabric's shim.ERROR; 400 and above fail the endorsement
CONNECT = "/protos.Chaincode/Connect"
# Requests whose answer is only "done": a run need not wait for them.
_WRITES = frozenset({ChaincodeMessage.PUT_STATE, ChaincodeMessage.DEL_STATE})


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


# Must be deterministic: see the module's docstring.
Chaincode = Callable[[Invocation, PeerLink], Outcome]

_TxKey = tuple[str, str]  # (channel id, tx id)
_Request = tuple[MessageType, bytes]


def _name(kind: MessageType) -> str:
    return ChaincodeMessage.Type.Name(kind)


class _Suspend(BaseException):
    """Stops a chaincode run at a request the peer has not answered yet."""


@dataclass(frozen=True, slots=True)
class _Exchange:
    kind: MessageType
    payload: bytes
    answer: bytes | PeerError


@dataclass(slots=True)
class _ReplayLink:
    """One run's link: answers from the record; a request past it suspends the run."""

    record: list[_Exchange]
    position: int = 0
    unsent_writes: list[_Request] = field(default_factory=list)
    needed: _Request | None = None
    diverged: bool = False
    finished: bool = False

    def call(self, kind: MessageType, payload: bytes) -> bytes:
        if self.finished:
            raise PeerError("the transaction has already completed")
        if self.needed is not None or self.diverged:
            raise _Suspend  # the run is over; cleanup code asks on the way out
        position = self.position
        self.position += 1
        if position < len(self.record):
            exchange = self.record[position]
            if exchange.kind != kind or exchange.payload != payload:
                self.diverged = True
                raise _Suspend
            if isinstance(exchange.answer, PeerError):
                raise exchange.answer
            return exchange.answer
        if kind in _WRITES:
            self.unsent_writes.append((kind, payload))
            return b""
        self.needed = (kind, payload)
        raise _Suspend


class _Session:
    """One Connect stream: registration, routing of answers, running transactions."""

    def __init__(self, chaincode_id: str, chaincode: Chaincode, request_timeout_s: float) -> None:
        self._chaincode_id = chaincode_id
        self._chaincode = chaincode
        self._request_timeout_s = request_timeout_s
        self._loop = asyncio.get_running_loop()
        self._outbox: asyncio.Queue[ChaincodeMessage | None] = asyncio.Queue()
        self._waiting: dict[_TxKey, asyncio.Future[ChaincodeMessage]] = {}
        self._running: set[_TxKey] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._registered = False
        self._ready = False
        self._log = structlog.get_logger().bind(chaincode_id=chaincode_id)

    # ---- the single writer ---------------------------------------------------------

    def _send(self, message: ChaincodeMessage) -> None:
        if not self._closed:
            self._outbox.put_nowait(message)

    async def write(self, stream: "Stream[ChaincodeMessage, ChaincodeMessage]") -> None:
        """Writes REGISTER, then every message sent, in order, until the session closes."""
        register = chaincode_pb2.ChaincodeID(name=self._chaincode_id)
        try:
            await stream.send_message(
                ChaincodeMessage(
                    type=ChaincodeMessage.REGISTER, payload=register.SerializeToString()
                )
            )
            while (message := await self._outbox.get()) is not None:
                await stream.send_message(message)
        except Exception as err:  # noqa: BLE001 - a broken stream; the peer connects again
            self._log.info("peer stream ended", error_type=type(err).__name__)
        finally:
            self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Ends the stream; every waiting request fails. Safe to call repeatedly."""
        if self._closed:
            return
        self._closed = True
        waiting = list(self._waiting.values())
        self._waiting.clear()
        self._outbox.put_nowait(None)
        for future in waiting:
            if not future.done():
                future.set_exception(PeerError("the peer's stream is gone"))

    # ---- requests of transactions ------------------------------------------------------

    async def request(
        self, channel_id: str, tx_id: str, kind: MessageType, payload: bytes
    ) -> bytes:
        """Sends one request of a transaction; the peer's RESPONSE payload, or PeerError."""
        key = (channel_id, tx_id)
        if self._closed:
            raise PeerError("the peer's stream is gone")
        if key in self._waiting:
            raise PeerError("a request of this transaction is already waiting")
        future: asyncio.Future[ChaincodeMessage] = self._loop.create_future()
        self._waiting[key] = future
        timer = self._loop.call_later(self._request_timeout_s, self._expire, key, future, kind)
        self._outbox.put_nowait(
            ChaincodeMessage(type=kind, payload=payload, txid=tx_id, channel_id=channel_id)
        )
        try:
            reply = await future
        finally:
            timer.cancel()
        if reply.type == ChaincodeMessage.RESPONSE:
            return reply.payload
        if reply.type == ChaincodeMessage.ERROR:
            raise PeerError(reply.payload.decode(errors="replace"))
        raise PeerError(f"unexpected {_name(reply.type)} in answer to {_name(kind)}")

    def _expire(
        self, key: _TxKey, future: asyncio.Future[ChaincodeMessage], kind: MessageType
    ) -> None:
        """No answer in time: the request fails, and a late answer is ignored."""
        if self._waiting.get(key) is future:
            del self._waiting[key]
        if not future.done():
            future.set_exception(
                PeerError(f"no answer to {_name(kind)} in {self._request_timeout_s} s")
            )

    # ---- messages from the peer ----------------------------------------------------------

    async def read(self, stream: "Stream[ChaincodeMessage, ChaincodeMessage]") -> None:
        try:
            async for message in stream:
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
        elif not self._registered and kind == ChaincodeMessage.REGISTERED:
            self._registered = True
        elif self._registered and not self._ready and kind == ChaincodeMessage.READY:
            self._ready = True
            self._log.info("registered with peer")
        elif not self._ready:
            state = "established" if self._registered else "created"
            self._log.warning("unexpected message, closing", type=_name(kind), state=state)
            self._reply_error(message, f"cannot handle {_name(kind)} while {state}")
            self.close()
        elif kind in (ChaincodeMessage.RESPONSE, ChaincodeMessage.ERROR):
            future = self._waiting.pop((message.channel_id, message.txid), None)
            if future is None or future.done():
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
        if key in self._running:
            self._reply_error(message, "this transaction is already executing")
            return
        self._running.add(key)
        task = asyncio.create_task(self._execute(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _execute(self, message: ChaincodeMessage) -> None:
        """Runs the chaincode until it completes with every request answered; never raises."""
        try:
            outcome = await self._replay(message)
        except Exception as err:  # noqa: BLE001 - a defect of the chaincode layer: answer, never hang
            self._log.error("chaincode raised", tx_id=message.txid, error_type=type(err).__name__)
            outcome = _failure("the chaincode failed")
        finally:
            self._running.discard((message.channel_id, message.txid))
        self._send(_completed(message, outcome))

    async def _replay(self, message: ChaincodeMessage) -> Outcome:
        chaincode_input = chaincode_pb2.ChaincodeInput.FromString(message.payload)
        invocation = Invocation(
            channel_id=message.channel_id,
            tx_id=message.txid,
            args=tuple(chaincode_input.args),
            signed_proposal=message.proposal if message.HasField("proposal") else None,
        )
        record: list[_Exchange] = []
        while True:
            link = _ReplayLink(record)
            outcome: Outcome | None = None
            with contextlib.suppress(_Suspend):
                outcome = self._chaincode(invocation, link)
            link.finished = True
            if link.diverged or (outcome is None and link.needed is None):
                self._log.error("chaincode is not deterministic", tx_id=message.txid)
                return _failure("the chaincode is not deterministic")
            to_send = list(link.unsent_writes)
            if link.needed is not None:
                to_send.append(link.needed)
            # Run again after a read (or a refused write); done when the writes went through.
            if not await self._exchange(invocation, to_send, record) and outcome is not None:
                return outcome

    async def _exchange(
        self, invocation: Invocation, requests: list[_Request], record: list[_Exchange]
    ) -> bool:
        """Sends ``requests`` one after the other, recording the answers; stops at a
        refusal. True when the chaincode must run again (a read answered, a write refused)."""
        for kind, payload in requests:
            try:
                answer: bytes | PeerError = await self.request(
                    invocation.channel_id, invocation.tx_id, kind, payload
                )
            except PeerError as err:
                answer = err
            record.append(_Exchange(kind, payload, answer))
            if isinstance(answer, PeerError) or kind not in _WRITES:
                return True
        return False


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


class ChaincodeService:
    """The ``protos.Chaincode`` service the peer connects to (a grpclib handler)."""

    def __init__(
        self, chaincode_id: str, chaincode: Chaincode, request_timeout_s: float = 30.0
    ) -> None:
        self._chaincode_id = chaincode_id
        self._chaincode = chaincode
        self._request_timeout_s = request_timeout_s

    def __mapping__(self) -> dict[str, Handler]:
        return {
            CONNECT: Handler(
                self.connect, Cardinality.STREAM_STREAM, ChaincodeMessage, ChaincodeMessage
            )
        }

    async def connect(self, stream: "Stream[ChaincodeMessage, ChaincodeMessage]") -> None:
        session = _Session(self._chaincode_id, self._chaincode, self._request_timeout_s)
        writer = asyncio.create_task(session.write(stream))
        try:
            await session.read(stream)
        finally:
            # However the RPC ends (the peer goes away, the server stops), the session closes.
            session.close()
            writer.cancel()


class _Server(Server):
    """grpclib's server, which also closes its connections when it stops."""

    def __init__(self, service: ChaincodeService) -> None:
        super().__init__([service])
        self._protocols: weakref.WeakSet[H2Protocol] = weakref.WeakSet()

    def _protocol_factory(self) -> H2Protocol:
        protocol = super()._protocol_factory()
        self._protocols.add(protocol)
        return protocol

    def close_connections(self) -> None:
        for protocol in list(self._protocols):
            if hasattr(protocol, "connection"):  # set once the connection is made
                protocol.connection.close()


class ChaincodeServer:
    """A started server, with its own event loop in its own thread."""

    def __init__(self, host: str, port: int, chaincode_id: str, chaincode: Chaincode) -> None:
        listener = _listen(host, port)
        self.port: int = listener.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="chaincode-server", daemon=True
        )
        self._thread.start()
        try:
            self._server = asyncio.run_coroutine_threadsafe(
                self._start(listener, ChaincodeService(chaincode_id, chaincode)), self._loop
            ).result()
        except BaseException:
            listener.close()
            self._halt()
            raise

    @staticmethod
    async def _start(listener: socket.socket, service: ChaincodeService) -> _Server:
        server = _Server(service)  # in the loop: grpclib binds to the running loop
        await server.start(sock=listener)
        return server

    def stop(self, grace_s: float) -> None:
        """Ends the streams (failing every request still waiting), lets the transactions
        finish for up to ``grace_s`` seconds, and stops the loop."""
        asyncio.run_coroutine_threadsafe(self._stop(grace_s), self._loop).result()
        self._halt()

    async def _stop(self, grace_s: float) -> None:
        self._server.close()
        self._server.close_connections()
        others = asyncio.all_tasks() - {asyncio.current_task()}
        if others:
            await asyncio.wait(others, timeout=grace_s)

    def _halt(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket. Its protocol is set explicitly: grpclib turns Nagle off
    (TCP_NODELAY) only on sockets that say they are TCP, and with Nagle on, every answer
    after a small write waits for a delayed ACK (40 ms)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(100)
    except OSError:
        listener.close()
        raise
    return listener


def start_server(address: str, chaincode_id: str, chaincode: Chaincode) -> ChaincodeServer:
    """A started plaintext server on ``host:port`` (port 0 picks one: see ``.port``)."""
    host, _, port = address.rpartition(":")
    return ChaincodeServer(host, int(port), chaincode_id, chaincode)
