"""What a chaincode is given and gives back, and the replay engine that runs it.

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

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeAlias

from fabric_protos.peer import (
    chaincode_event_pb2,
    chaincode_shim_pb2,
    proposal_pb2,
    proposal_response_pb2,
)
from structlog.typing import FilteringBoundLogger

ChaincodeMessage = chaincode_shim_pb2.ChaincodeMessage
MessageType: TypeAlias = ChaincodeMessage.Type.ValueType

ERROR_STATUS = 500  # Fabric's shim.ERROR; 400 and above fail the endorsement
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
# Sends one request of the transaction to the peer: the RESPONSE payload, or PeerError.
Ask = Callable[[MessageType, bytes], Awaitable[bytes]]

_Request = tuple[MessageType, bytes]


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


async def run_chaincode(
    chaincode: Chaincode, invocation: Invocation, ask: Ask, log: FilteringBoundLogger
) -> Outcome:
    """Runs ``chaincode`` again and again, asking the peer what each run needed, until a
    run completes with every request answered."""
    record: list[_Exchange] = []
    while True:
        link = _ReplayLink(record)
        outcome: Outcome | None = None
        with contextlib.suppress(_Suspend):
            outcome = chaincode(invocation, link)
        link.finished = True
        if link.diverged or (outcome is None and link.needed is None):
            log.error("chaincode is not deterministic", tx_id=invocation.tx_id)
            return failure("the chaincode is not deterministic")
        to_send = list(link.unsent_writes)
        if link.needed is not None:
            to_send.append(link.needed)
        # Run again after a read (or a refused write); done when the writes went through.
        if not await _exchange(ask, to_send, record) and outcome is not None:
            return outcome


async def _exchange(ask: Ask, requests: list[_Request], record: list[_Exchange]) -> bool:
    """Sends ``requests`` one after the other, recording the answers; stops at a
    refusal. True when the chaincode must run again (a read answered, a write refused)."""
    for kind, payload in requests:
        try:
            answer: bytes | PeerError = await ask(kind, payload)
        except PeerError as err:
            answer = err
        record.append(_Exchange(kind, payload, answer))
        if isinstance(answer, PeerError) or kind not in _WRITES:
            return True
    return False


def failure(message: str) -> Outcome:
    """The outcome of a transaction the chaincode layer could not run to its end."""
    return Outcome(proposal_response_pb2.Response(status=ERROR_STATUS, message=message))
