"""What can go wrong talking to a Fabric Gateway, in our terms; ``grpc`` errors are
translated here and never leave the Fabric adapter.

FabricError
 ├── GatewayError               a gRPC call failed (status code, message, the gateway's details)
 │    ├── LedgerUnavailable     the peer or the network is down or too slow: retry later
 │    └── ContractRejected      the chaincode refused the transaction (``CUREX:{json}``)
 ├── CommitError                the transaction was ordered but not validated
 │    ├── CommitConflict        MVCC or phantom read conflict: endorse again
 │    └── CommitFailed          any other validation code
 ├── MalformedTransaction       bytes that are not a transaction envelope
 └── IdentityError              a signing identity's key or certificate is unusable

``retriable`` on a ``GatewayError`` says whether another attempt may succeed.
"""

import json
from dataclasses import dataclass
from typing import Any

import grpc
from fabric_protos.gateway import gateway_pb2
from google.rpc.status_pb2 import Status

from ledger_gateway.chaincode import ContractError, ContractFailure
from ledger_gateway.chaincode.errors import error_class
from schemas import TransferState

CONTRACT_PREFIX = "CUREX:"
_STATUS_DETAILS_KEY = "grpc-status-details-bin"
_UNAVAILABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}
# FAILED_PRECONDITION from the gateway's endorsement planning when peers are down or not yet
# known to discovery (a peer that just started, a restart): availability, not a bad request.
_NO_ENDORSERS = (
    "endorsement policy",
    "unavailability of peers",
    "endorsing peers",
    "no peers available",
)
# The gateway's message when its first endorser agreed but a later one did not.
_LATER_ENDORSER_FAILED = "failed to collect enough transaction endorsements"


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One endorser's or orderer's failure as the gateway reports it."""

    address: str
    msp_id: str
    message: str


class FabricError(Exception):
    pass


class GatewayError(FabricError):
    def __init__(
        self,
        code: grpc.StatusCode | None,
        message: str,
        details: tuple[ErrorDetail, ...] = (),
        tx_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        self.tx_id = tx_id

    def __str__(self) -> str:
        parts = [f"{self.code.name if self.code else 'ERROR'}: {self.message}"]
        parts += [f"{d.msp_id}@{d.address}: {d.message}" for d in self.details]
        return "; ".join(parts)

    @property
    def retriable(self) -> bool:
        """A transient failure: another attempt may succeed (ABORTED covers a peer that
        could not reach its chaincode, or endorsers that disagreed)."""
        return self.code in _UNAVAILABLE or self.code == grpc.StatusCode.ABORTED


class LedgerUnavailable(GatewayError):
    @property
    def retriable(self) -> bool:
        return True


class ContractRejected(GatewayError):
    """The chaincode's own refusal, with the contract's error code."""

    def __init__(
        self,
        code: grpc.StatusCode | None,
        message: str,
        details: tuple[ErrorDetail, ...],
        tx_id: str | None,
        *,
        contract_code: str,
        reason: str,
        current_state: TransferState | None,
        unanimous: bool,
    ) -> None:
        super().__init__(code, message, details, tx_id)
        self.contract_code = contract_code
        self.reason = reason
        self.current_state = current_state
        # False when an endorser refused after another one had accepted: the peers saw
        # different world states (one had not yet committed a block), so it may pass later.
        self.unanimous = unanimous

    @property
    def retriable(self) -> bool:
        return not self.unanimous

    def contract_error(self) -> ContractError:
        kind = error_class(self.contract_code)
        if kind is None:
            return ContractFailure(f"{self.contract_code}: {self.reason}", self.current_state)
        return kind(self.reason, self.current_state)


class CommitError(FabricError):
    def __init__(self, tx_id: str, validation_code: str) -> None:
        super().__init__(f"transaction {tx_id} was invalidated: {validation_code}")
        self.tx_id = tx_id
        self.validation_code = validation_code


class CommitConflict(CommitError):
    """Another transaction changed what this one read; endorse it again."""


class CommitFailed(CommitError):
    pass


class MalformedTransaction(FabricError, ValueError):
    pass


class IdentityError(FabricError):
    pass


def parse_contract_message(message: str) -> tuple[str, str, TransferState | None] | None:
    """(code, reason, current state) from a message carrying ``CUREX:{json}``, if any."""
    start = message.find(CONTRACT_PREFIX)
    if start < 0:
        return None
    try:
        document, _ = json.JSONDecoder().raw_decode(message, start + len(CONTRACT_PREFIX))
    except ValueError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("code"), str):
        return None
    state = document.get("current_state")
    try:
        current_state = TransferState(state) if isinstance(state, str) else None
    except ValueError:
        current_state = None
    return document["code"], str(document.get("reason", "")), current_state


def status_details(error: grpc.aio.AioRpcError) -> tuple[ErrorDetail, ...]:
    """The ``gateway.ErrorDetail`` messages in the call's rich status, if it has one."""
    raw: Any = None
    for key, value in error.trailing_metadata() or ():
        if key == _STATUS_DETAILS_KEY:
            raw = value
    if not isinstance(raw, bytes):
        return ()
    status = Status()
    try:
        status.ParseFromString(raw)
    except ValueError:
        return ()
    details = []
    for packed in status.details:
        detail = gateway_pb2.ErrorDetail()
        if packed.Unpack(detail):
            details.append(ErrorDetail(detail.address, detail.msp_id, detail.message))
    return tuple(details)


def translate(error: grpc.aio.AioRpcError, tx_id: str | None = None) -> GatewayError:
    code = error.code()
    message = error.details() or ""
    details = status_details(error)
    for text in [d.message for d in details] + [message]:
        parsed = parse_contract_message(text)
        if parsed is not None:
            contract_code, reason, current_state = parsed
            return ContractRejected(
                code,
                message,
                details,
                tx_id,
                contract_code=contract_code,
                reason=reason,
                current_state=current_state,
                unanimous=not message.startswith(_LATER_ENDORSER_FAILED),
            )
    if code in _UNAVAILABLE or (
        code == grpc.StatusCode.FAILED_PRECONDITION
        and any(fragment in message for fragment in _NO_ENDORSERS)
    ):
        return LedgerUnavailable(code, message, details, tx_id)
    return GatewayError(code, message, details, tx_id)
