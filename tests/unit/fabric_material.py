"""Fabric test material built with the protos: an identity, transactions and blocks."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fabric_protos.common import common_pb2
from fabric_protos.peer import (
    chaincode_event_pb2,
    chaincode_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)
from google.protobuf.timestamp_pb2 import Timestamp

from ledger_gateway.fabric.chain import data_hash
from ledger_gateway.fabric.identity import SigningIdentity

T0 = datetime(2026, 11, 26, 12, 0, 0, 123456, tzinfo=UTC)


def make_identity(msp_id: str = "ES-SERMAS") -> SigningIdentity:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"User1@{msp_id.lower()}")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(T0 - timedelta(days=1))
        .not_valid_after(T0 + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return SigningIdentity(msp_id, certificate.public_bytes(serialization.Encoding.PEM), key)


def write_msp_dir(identity: SigningIdentity, directory: Path) -> Path:
    """cryptogen's layout: signcerts/<cn>-cert.pem and keystore/priv_sk."""
    (directory / "signcerts").mkdir(parents=True)
    (directory / "keystore").mkdir()
    (directory / "signcerts" / "User1-cert.pem").write_bytes(identity.certificate_pem)
    (directory / "keystore" / "priv_sk").write_bytes(
        identity.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return directory


def _timestamp(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


def endorser_envelope(
    identity: SigningIdentity,
    tx_id: str,
    *,
    chaincode: str = "curex-transfer",
    args: tuple[bytes, ...] = (b"submit", b"{}"),
    status: int = 200,
    payload: bytes = b"",
    event: tuple[str, bytes] | None = None,
    at: datetime = T0,
    channel: str = "curex",
) -> bytes:
    """A committed-shape endorser transaction envelope, serialized."""
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.ENDORSER_TRANSACTION,
        timestamp=_timestamp(at),
        channel_id=channel,
        tx_id=tx_id,
    )
    chaincode_id = chaincode_pb2.ChaincodeID(name=chaincode)
    invocation = chaincode_pb2.ChaincodeInvocationSpec(
        chaincode_spec=chaincode_pb2.ChaincodeSpec(
            chaincode_id=chaincode_id, input=chaincode_pb2.ChaincodeInput(args=list(args))
        )
    )
    action = proposal_pb2.ChaincodeAction(
        response=proposal_response_pb2.Response(status=status, payload=payload),
        chaincode_id=chaincode_id,
    )
    if event is not None:
        action.events = chaincode_event_pb2.ChaincodeEvent(
            chaincode_id=chaincode, tx_id=tx_id, event_name=event[0], payload=event[1]
        ).SerializeToString()
    action_payload = transaction_pb2.ChaincodeActionPayload(
        chaincode_proposal_payload=proposal_pb2.ChaincodeProposalPayload(
            input=invocation.SerializeToString()
        ).SerializeToString(),
        action=transaction_pb2.ChaincodeEndorsedAction(
            proposal_response_payload=proposal_response_pb2.ProposalResponsePayload(
                proposal_hash=b"h" * 32, extension=action.SerializeToString()
            ).SerializeToString()
        ),
    )
    transaction = transaction_pb2.Transaction(
        actions=[transaction_pb2.TransactionAction(payload=action_payload.SerializeToString())]
    )
    payload_bytes = common_pb2.Payload(
        header=common_pb2.Header(
            channel_header=channel_header.SerializeToString(),
            signature_header=common_pb2.SignatureHeader(
                creator=identity.creator(), nonce=b"n" * 24
            ).SerializeToString(),
        ),
        data=transaction.SerializeToString(),
    ).SerializeToString()
    return common_pb2.Envelope(
        payload=payload_bytes, signature=identity.sign(payload_bytes)
    ).SerializeToString()


def config_envelope(identity: SigningIdentity, at: datetime = T0) -> bytes:
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.CONFIG, timestamp=_timestamp(at), channel_id="curex"
    )
    payload = common_pb2.Payload(
        header=common_pb2.Header(
            channel_header=channel_header.SerializeToString(),
            signature_header=common_pb2.SignatureHeader(
                creator=identity.creator()
            ).SerializeToString(),
        ),
        data=b"\x0a\x00",
    ).SerializeToString()
    return common_pb2.Envelope(payload=payload).SerializeToString()


def block(
    number: int, previous_hash: bytes, envelopes: list[bytes], codes: list[int]
) -> common_pb2.Block:
    result = common_pb2.Block()
    result.header.number = number
    result.header.previous_hash = previous_hash
    result.data.data.extend(envelopes)
    result.header.data_hash = data_hash(result.data)
    metadata = [b""] * 5
    metadata[common_pb2.TRANSACTIONS_FILTER] = bytes(codes)
    result.metadata.metadata.extend(metadata)
    return result
