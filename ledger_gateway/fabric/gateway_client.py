"""An async client of one peer's Fabric Gateway service (and its Deliver service).

Evaluate runs a chaincode function on a peer without ordering it. Endorse has the gateway
collect the endorsements the policy needs and returns the prepared transaction, which we
sign and Submit; CommitStatus waits until the peer has validated it. gRPC failures leave
this module as ``ledger_gateway.fabric.errors`` exceptions.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, cast

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.peer import events_pb2_grpc, transaction_pb2

from ledger_gateway.fabric.errors import (
    CommitConflict,
    CommitFailed,
    GatewayError,
    MalformedTransaction,
    translate,
)
from ledger_gateway.fabric.identity import SigningIdentity
from ledger_gateway.fabric.proposals import (
    chaincode_proposal,
    commit_status_request,
    signed_envelope,
)
from ledger_gateway.fabric.transactions import parse_envelope

if TYPE_CHECKING:
    from fabric_protos.gateway.gateway_pb2_grpc import GatewayAsyncStub
    from fabric_protos.peer.events_pb2_grpc import DeliverAsyncStub

VALID = "VALID"
CONFLICTS = frozenset({"MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT"})
_MAX_MESSAGE = 64 * 1024 * 1024
_CODE_NAMES = {int(value): name for name, value in transaction_pb2.TxValidationCode.items()}

_Request = TypeVar("_Request")
_Response = TypeVar("_Response")


def validation_code_name(code: int) -> str:
    return _CODE_NAMES.get(code, f"UNKNOWN_{code}")


@dataclass(frozen=True, slots=True)
class PeerEndpoint:
    """Where a peer listens, and how to trust its TLS certificate."""

    address: str  # host:port
    tls_ca_pem: bytes
    server_name: str  # the name in the peer's TLS certificate, e.g. peer0.es-sermas.curex.local


@dataclass(frozen=True, slots=True)
class Timeouts:
    evaluate_s: float = 30.0
    endorse_s: float = 30.0
    submit_s: float = 30.0
    commit_status_s: float = 120.0


DEFAULT_TIMEOUTS = Timeouts()


@dataclass(frozen=True, slots=True)
class PreparedTx:
    """An endorsed transaction, not yet signed or submitted, and the chaincode's result."""

    tx_id: str
    envelope: common_pb2.Envelope
    result: bytes


@dataclass(frozen=True, slots=True)
class CommitStatus:
    validation_code: str
    block_number: int


def _args(args: Sequence[str | bytes]) -> list[bytes]:
    return [a.encode() if isinstance(a, str) else a for a in args]


def open_channel(endpoint: PeerEndpoint) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(root_certificates=endpoint.tls_ca_pem)
    return grpc.aio.secure_channel(
        endpoint.address,
        credentials,
        options=[
            ("grpc.ssl_target_name_override", endpoint.server_name),
            ("grpc.default_authority", endpoint.server_name),
            ("grpc.max_receive_message_length", _MAX_MESSAGE),
            ("grpc.max_send_message_length", _MAX_MESSAGE),
        ],
    )


class GatewayClient:
    """Calls one peer's gateway with one identity. Create it inside the event loop."""

    def __init__(
        self,
        endpoint: PeerEndpoint,
        identity: SigningIdentity,
        channel_name: str,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        self.endpoint = endpoint
        self.identity = identity
        self.channel_name = channel_name
        self.timeouts = timeouts
        self.grpc_channel = open_channel(endpoint)
        self._gateway = cast("GatewayAsyncStub", gateway_pb2_grpc.GatewayStub(self.grpc_channel))
        self.deliver_stub = cast("DeliverAsyncStub", events_pb2_grpc.DeliverStub(self.grpc_channel))

    async def close(self) -> None:
        await self.grpc_channel.close()

    async def evaluate(
        self,
        chaincode: str,
        function: str,
        args: Sequence[str | bytes] = (),
        *,
        target_organizations: Sequence[str] = (),
    ) -> bytes:
        """The function's response payload; nothing is ordered or written."""
        proposal = chaincode_proposal(
            self.identity, self.channel_name, chaincode, _args([function, *args])
        )
        request = gateway_pb2.EvaluateRequest(
            transaction_id=proposal.tx_id,
            channel_id=self.channel_name,
            proposed_transaction=proposal.signed,
            target_organizations=list(target_organizations),
        )
        response = await _call(
            self._gateway.Evaluate, request, self.timeouts.evaluate_s, proposal.tx_id
        )
        return response.result.payload

    async def endorse(
        self,
        chaincode: str,
        function: str,
        args: Sequence[str | bytes] = (),
        *,
        endorsing_organizations: Sequence[str] = (),
    ) -> PreparedTx:
        """Endorsements as the gateway plans them, or only from ``endorsing_organizations``."""
        proposal = chaincode_proposal(
            self.identity, self.channel_name, chaincode, _args([function, *args])
        )
        request = gateway_pb2.EndorseRequest(
            transaction_id=proposal.tx_id,
            channel_id=self.channel_name,
            proposed_transaction=proposal.signed,
            endorsing_organizations=list(endorsing_organizations),
        )
        response = await _call(
            self._gateway.Endorse, request, self.timeouts.endorse_s, proposal.tx_id
        )
        envelope = response.prepared_transaction
        try:
            result = parse_envelope(envelope).response_payload
        except MalformedTransaction as error:
            raise GatewayError(None, f"unreadable prepared transaction: {error}") from error
        return PreparedTx(proposal.tx_id, envelope, result)

    async def submit(self, prepared: PreparedTx) -> None:
        """Signs the prepared transaction and hands it to the ordering service."""
        request = gateway_pb2.SubmitRequest(
            transaction_id=prepared.tx_id,
            channel_id=self.channel_name,
            prepared_transaction=signed_envelope(self.identity, prepared.envelope),
        )
        await _call(self._gateway.Submit, request, self.timeouts.submit_s, prepared.tx_id)

    async def commit_status(self, tx_id: str) -> CommitStatus:
        """Waits until this peer has committed ``tx_id``; its validation code and block."""
        request = commit_status_request(self.identity, self.channel_name, tx_id)
        response = await _call(
            self._gateway.CommitStatus, request, self.timeouts.commit_status_s, tx_id
        )
        return CommitStatus(validation_code_name(response.result), response.block_number)

    async def submit_and_wait(
        self,
        chaincode: str,
        function: str,
        args: Sequence[str | bytes] = (),
        *,
        endorsing_organizations: Sequence[str] = (),
    ) -> tuple[PreparedTx, int]:
        """Endorse, submit, wait for the commit: the transaction and its block number.

        Raises ``CommitConflict`` for an MVCC or phantom read conflict (endorse again) and
        ``CommitFailed`` for any other validation code.
        """
        prepared = await self.endorse(
            chaincode, function, args, endorsing_organizations=endorsing_organizations
        )
        await self.submit(prepared)
        status = await self.commit_status(prepared.tx_id)
        check_valid(prepared.tx_id, status)
        return prepared, status.block_number


async def _call(
    method: grpc.aio.UnaryUnaryMultiCallable[_Request, _Response],
    request: _Request,
    timeout_s: float,
    tx_id: str,
) -> _Response:
    """One gateway call; a gRPC failure leaves as the ``errors`` exception it stands for."""
    try:
        return await method(request, timeout=timeout_s)
    except grpc.aio.AioRpcError as error:
        raise translate(error, tx_id) from error


def check_valid(tx_id: str, status: CommitStatus) -> None:
    if status.validation_code == VALID:
        return
    if status.validation_code in CONFLICTS:
        raise CommitConflict(tx_id, status.validation_code)
    raise CommitFailed(tx_id, status.validation_code)
