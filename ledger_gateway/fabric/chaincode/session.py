"""One ``Chaincode.Connect`` stream: the protocol a peer speaks with its chaincode.

The chat on one stream: we send REGISTER (our package id), the peer answers REGISTERED
and READY; from then on TRANSACTION (and INIT) messages arrive, many at once. While a
transaction runs it asks the peer for state (GET_STATE, PUT_STATE, range and history
queries, ...) with the transaction's channel id and tx id, one request at a time, and the
peer's RESPONSE or ERROR comes back on the same stream, matched by (channel id, tx id). A
transaction ends with COMPLETED carrying a ``peer.Response`` and its chaincode event.
"""

import asyncio
import functools

import structlog
from fabric_protos.peer import chaincode_pb2, chaincode_shim_pb2
from grpclib.server import Stream

from ledger_gateway.fabric.chaincode.replay import (
    Chaincode,
    Invocation,
    MessageType,
    Outcome,
    PeerError,
    failure,
    run_chaincode,
)

ChaincodeMessage = chaincode_shim_pb2.ChaincodeMessage

_TxKey = tuple[str, str]  # (channel id, tx id)


def _name(kind: MessageType) -> str:
    return ChaincodeMessage.Type.Name(kind)


class Session:
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
            ask = functools.partial(self.request, message.channel_id, message.txid)
            outcome = await run_chaincode(self._chaincode, _invocation(message), ask, self._log)
        except Exception as err:  # noqa: BLE001 - a defect of the chaincode layer: answer, never hang
            self._log.error("chaincode raised", tx_id=message.txid, error_type=type(err).__name__)
            outcome = failure("the chaincode failed")
        finally:
            self._running.discard((message.channel_id, message.txid))
        self._send(_completed(message, outcome))


def _invocation(message: ChaincodeMessage) -> Invocation:
    chaincode_input = chaincode_pb2.ChaincodeInput.FromString(message.payload)
    return Invocation(
        channel_id=message.channel_id,
        tx_id=message.txid,
        args=tuple(chaincode_input.args),
        signed_proposal=message.proposal if message.HasField("proposal") else None,
    )


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
