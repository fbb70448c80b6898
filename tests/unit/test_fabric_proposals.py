"""Signed proposals, seek envelopes and commit status requests, read back with the protos."""

from hashlib import sha256

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.orderer import ab_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2

from ledger_gateway.fabric.identity import SigningIdentity
from ledger_gateway.fabric.proposals import (
    chaincode_proposal,
    commit_status_request,
    seek_envelope,
    signed_envelope,
    tx_id_for,
)
from tests.unit.fabric_material import make_identity


def _verifies(identity: SigningIdentity, signature: bytes, message: bytes) -> None:
    public_key = x509.load_pem_x509_certificate(identity.certificate_pem).public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))


def test_tx_id_is_the_hex_sha256_of_nonce_then_creator() -> None:
    nonce, creator = b"\x01" * 24, b"creator bytes"
    assert tx_id_for(nonce, creator) == sha256(nonce + creator).hexdigest()
    assert tx_id_for(nonce, creator) != tx_id_for(b"\x02" * 24, creator)


def test_a_chaincode_proposal_reads_back_as_fabric_expects() -> None:
    identity = make_identity("SE-KI")
    nonce = bytes(range(24))
    proposal = chaincode_proposal(
        identity, "curex", "curex-transfer", [b"submit", b'{"x":1}'], nonce=nonce
    )
    assert proposal.tx_id == sha256(nonce + identity.creator()).hexdigest()
    _verifies(identity, proposal.signed.signature, proposal.signed.proposal_bytes)

    decoded = proposal_pb2.Proposal.FromString(proposal.signed.proposal_bytes)
    header = common_pb2.Header.FromString(decoded.header)
    channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
    assert channel_header.type == common_pb2.ENDORSER_TRANSACTION
    assert channel_header.channel_id == "curex"
    assert channel_header.tx_id == proposal.tx_id
    assert channel_header.timestamp.seconds > 0
    extension = proposal_pb2.ChaincodeHeaderExtension.FromString(channel_header.extension)
    assert extension.chaincode_id.name == "curex-transfer"
    signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
    assert (signature_header.creator, signature_header.nonce) == (identity.creator(), nonce)

    payload = proposal_pb2.ChaincodeProposalPayload.FromString(decoded.payload)
    spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input).chaincode_spec
    assert spec.chaincode_id.name == "curex-transfer"
    assert list(spec.input.args) == [b"submit", b'{"x":1}']


def test_each_proposal_gets_a_fresh_nonce_and_tx_id() -> None:
    identity = make_identity()
    ids = {chaincode_proposal(identity, "curex", "cc", [b"f"]).tx_id for _ in range(20)}
    assert len(ids) == 20


def test_a_prepared_transaction_is_signed_over_its_payload() -> None:
    identity = make_identity()
    prepared = common_pb2.Envelope(payload=b"the prepared payload")
    signed = signed_envelope(identity, prepared)
    assert signed.payload == prepared.payload
    assert not prepared.signature
    _verifies(identity, signed.signature, signed.payload)


def test_commit_status_request_names_the_tx_and_is_signed() -> None:
    identity = make_identity()
    signed = commit_status_request(identity, "curex", "ab" * 32)
    request = gateway_pb2.CommitStatusRequest.FromString(signed.request)
    assert (request.transaction_id, request.channel_id) == ("ab" * 32, "curex")
    assert request.identity == identity.creator()
    _verifies(identity, signed.signature, signed.request)


def _seek(envelope: common_pb2.Envelope) -> tuple[common_pb2.ChannelHeader, ab_pb2.SeekInfo]:
    payload = common_pb2.Payload.FromString(envelope.payload)
    return (
        common_pb2.ChannelHeader.FromString(payload.header.channel_header),
        ab_pb2.SeekInfo.FromString(payload.data),
    )


def test_seek_envelopes_for_a_range_the_newest_and_following() -> None:
    identity = make_identity()
    envelope = seek_envelope(identity, "curex", 5, 9)
    _verifies(identity, envelope.signature, envelope.payload)
    channel_header, seek = _seek(envelope)
    assert channel_header.type == common_pb2.DELIVER_SEEK_INFO
    assert channel_header.channel_id == "curex"
    assert seek.start.specified.number == 5
    assert seek.stop.specified.number == 9
    assert seek.behavior == ab_pb2.SeekInfo.FAIL_IF_NOT_READY

    _, newest = _seek(seek_envelope(identity, "curex", 5, -1))
    assert newest.stop.WhichOneof("Type") == "newest"
    assert newest.behavior == ab_pb2.SeekInfo.FAIL_IF_NOT_READY

    _, following = _seek(seek_envelope(identity, "curex", 5, None))
    assert following.stop.specified.number == 2**64 - 1
    assert following.behavior == ab_pb2.SeekInfo.BLOCK_UNTIL_READY

    _, from_newest = _seek(seek_envelope(identity, "curex", -1, None))
    assert from_newest.start.WhichOneof("Type") == "newest"
