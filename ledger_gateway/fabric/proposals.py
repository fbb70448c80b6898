"""The signed messages a Fabric Gateway client sends, built from the protos.

- a chaincode proposal (``SignedProposal``) for Evaluate and Endorse;
- the signature over a prepared transaction envelope, for Submit;
- a ``SignedCommitStatusRequest``;
- a ``DELIVER_SEEK_INFO`` envelope asking a peer's Deliver service for blocks.

A transaction id is the hex SHA-256 of a fresh 24-byte nonce followed by the creator, as
the peer recomputes it from the signature header.
"""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import sha256

from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.orderer import ab_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from ledger_gateway.fabric.identity import SigningIdentity

NONCE_BYTES = 24
_NEWEST = 2**64 - 1  # "up to any block": the Deliver service keeps the stream open


def tx_id_for(nonce: bytes, creator: bytes) -> str:
    return sha256(nonce + creator).hexdigest()


def _now() -> Timestamp:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp


@dataclass(frozen=True, slots=True)
class Proposal:
    tx_id: str
    signed: proposal_pb2.SignedProposal


def chaincode_proposal(
    identity: SigningIdentity,
    channel: str,
    chaincode: str,
    args: Sequence[bytes],
    nonce: bytes | None = None,
) -> Proposal:
    """A signed proposal invoking ``chaincode`` with ``args`` (``args[0]`` the function)."""
    nonce = secrets.token_bytes(NONCE_BYTES) if nonce is None else nonce
    creator = identity.creator()
    tx_id = tx_id_for(nonce, creator)
    chaincode_id = chaincode_pb2.ChaincodeID(name=chaincode)
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.ENDORSER_TRANSACTION,
        timestamp=_now(),
        channel_id=channel,
        tx_id=tx_id,
        epoch=0,
        extension=proposal_pb2.ChaincodeHeaderExtension(
            chaincode_id=chaincode_id
        ).SerializeToString(),
    )
    header = common_pb2.Header(
        channel_header=channel_header.SerializeToString(),
        signature_header=common_pb2.SignatureHeader(
            creator=creator, nonce=nonce
        ).SerializeToString(),
    )
    invocation = chaincode_pb2.ChaincodeInvocationSpec(
        chaincode_spec=chaincode_pb2.ChaincodeSpec(
            chaincode_id=chaincode_id,
            input=chaincode_pb2.ChaincodeInput(args=list(args)),
        )
    )
    payload = proposal_pb2.ChaincodeProposalPayload(input=invocation.SerializeToString())
    proposal_bytes = proposal_pb2.Proposal(
        header=header.SerializeToString(), payload=payload.SerializeToString()
    ).SerializeToString()
    return Proposal(
        tx_id,
        proposal_pb2.SignedProposal(
            proposal_bytes=proposal_bytes, signature=identity.sign(proposal_bytes)
        ),
    )


def signed_envelope(
    identity: SigningIdentity, envelope: common_pb2.Envelope
) -> common_pb2.Envelope:
    """A copy of ``envelope`` (a prepared transaction) carrying the creator's signature."""
    return common_pb2.Envelope(payload=envelope.payload, signature=identity.sign(envelope.payload))


def commit_status_request(
    identity: SigningIdentity, channel: str, tx_id: str
) -> gateway_pb2.SignedCommitStatusRequest:
    request = gateway_pb2.CommitStatusRequest(
        transaction_id=tx_id, channel_id=channel, identity=identity.creator()
    ).SerializeToString()
    return gateway_pb2.SignedCommitStatusRequest(request=request, signature=identity.sign(request))


def seek_envelope(
    identity: SigningIdentity, channel: str, start: int, stop: int | None = None
) -> common_pb2.Envelope:
    """Blocks ``start``..``stop`` from a Deliver service (``start=-1``: the newest block).

    ``stop=None`` follows the chain: blocks as they commit, the stream never ends. Otherwise
    the peer sends what it has up to ``stop`` (``-1``: its newest block now) and fails with
    NOT_FOUND rather than wait for a block it does not have yet.
    """
    if stop is None:
        stop_position = ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=_NEWEST))
        behavior = ab_pb2.SeekInfo.BLOCK_UNTIL_READY
    else:
        stop_position = (
            ab_pb2.SeekPosition(newest=ab_pb2.SeekNewest())
            if stop < 0
            else ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=stop))
        )
        behavior = ab_pb2.SeekInfo.FAIL_IF_NOT_READY
    start_position = (
        ab_pb2.SeekPosition(newest=ab_pb2.SeekNewest())
        if start < 0
        else ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=start))
    )
    seek = ab_pb2.SeekInfo(
        start=start_position,
        stop=stop_position,
        behavior=behavior,
    )
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.DELIVER_SEEK_INFO, timestamp=_now(), channel_id=channel, epoch=0
    )
    payload = common_pb2.Payload(
        header=common_pb2.Header(
            channel_header=channel_header.SerializeToString(),
            signature_header=common_pb2.SignatureHeader(
                creator=identity.creator()
            ).SerializeToString(),
        ),
        data=seek.SerializeToString(),
    ).SerializeToString()
    return common_pb2.Envelope(payload=payload, signature=identity.sign(payload))
