"""Reading a Fabric transaction envelope: who, when, which chaincode call, what it returned.

Envelope.payload -> Payload{header{channel_header, signature_header}, data: Transaction}
Transaction.actions[0].payload -> ChaincodeActionPayload{
    chaincode_proposal_payload -> ChaincodeProposalPayload.input -> ChaincodeInvocationSpec (args),
    action.proposal_response_payload -> ProposalResponsePayload.extension -> ChaincodeAction
        {response (status, message, payload), events -> ChaincodeEvent}}
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from fabric_protos.common import common_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import (
    chaincode_event_pb2,
    chaincode_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)
from google.protobuf.message import DecodeError

from ledger_gateway.fabric.errors import MalformedTransaction

_EPOCH = datetime.fromtimestamp(0, UTC)


@dataclass(frozen=True, slots=True)
class ChaincodeEventView:
    chaincode: str
    name: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class TxView:
    tx_id: str
    header_type: int
    channel: str
    timestamp: datetime
    creator_msp_id: str
    chaincode: str | None = None
    args: tuple[bytes, ...] = ()
    response_status: int = 0
    response_message: str = ""
    response_payload: bytes = b""
    event: ChaincodeEventView | None = None

    @property
    def function(self) -> str | None:
        return self.args[0].decode(errors="replace") if self.args else None


def parse_envelope(envelope: common_pb2.Envelope | bytes) -> TxView:
    """Raises ``MalformedTransaction`` when the bytes are not a transaction envelope."""
    try:
        if isinstance(envelope, bytes):
            envelope = common_pb2.Envelope.FromString(envelope)
        payload = common_pb2.Payload.FromString(envelope.payload)
        channel_header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
        signature_header = common_pb2.SignatureHeader.FromString(payload.header.signature_header)
        creator = identities_pb2.SerializedIdentity.FromString(signature_header.creator)
    except DecodeError as error:
        raise MalformedTransaction(str(error)) from error
    view = TxView(
        tx_id=channel_header.tx_id,
        header_type=channel_header.type,
        channel=channel_header.channel_id,
        timestamp=(
            channel_header.timestamp.ToDatetime(tzinfo=UTC)
            if channel_header.HasField("timestamp")
            else _EPOCH
        ),
        creator_msp_id=creator.mspid,
    )
    if channel_header.type != common_pb2.ENDORSER_TRANSACTION:
        return view
    try:
        return _with_chaincode_action(view, transaction_pb2.Transaction.FromString(payload.data))
    except DecodeError as error:
        raise MalformedTransaction(str(error)) from error


def _with_chaincode_action(view: TxView, transaction: transaction_pb2.Transaction) -> TxView:
    if not transaction.actions:
        return view
    action_payload = transaction_pb2.ChaincodeActionPayload.FromString(
        transaction.actions[0].payload
    )
    proposal_payload = proposal_pb2.ChaincodeProposalPayload.FromString(
        action_payload.chaincode_proposal_payload
    )
    spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(proposal_payload.input).chaincode_spec
    response_payload = proposal_response_pb2.ProposalResponsePayload.FromString(
        action_payload.action.proposal_response_payload
    )
    action = proposal_pb2.ChaincodeAction.FromString(response_payload.extension)
    event = None
    if action.events:
        raw = chaincode_event_pb2.ChaincodeEvent.FromString(action.events)
        if raw.event_name:
            event = ChaincodeEventView(raw.chaincode_id, raw.event_name, raw.payload)
    return TxView(
        tx_id=view.tx_id,
        header_type=view.header_type,
        channel=view.channel,
        timestamp=view.timestamp,
        creator_msp_id=view.creator_msp_id,
        chaincode=spec.chaincode_id.name,
        args=tuple(spec.input.args),
        response_status=action.response.status,
        response_message=action.response.message,
        response_payload=action.response.payload,
        event=event,
    )
