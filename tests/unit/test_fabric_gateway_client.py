"""GatewayClient and BlockReader against an in-process fake peer over TLS.

The fake checks what a Fabric peer checks of our messages (signatures by the creator's
certificate, tx ids derived from nonce and creator) and answers like Fabric's gateway,
including the rich gRPC status whose details carry the chaincode's refusal.
"""

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from hashlib import sha256

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.orderer import ab_pb2
from fabric_protos.peer import (
    chaincode_pb2,
    events_pb2,
    events_pb2_grpc,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)
from google.protobuf.any_pb2 import Any
from google.rpc.status_pb2 import Status

from ledger_gateway.fabric.blocks import BlockReader
from ledger_gateway.fabric.errors import (
    CommitConflict,
    CommitFailed,
    ContractRejected,
    GatewayError,
    LedgerUnavailable,
)
from ledger_gateway.fabric.gateway_client import GatewayClient, PeerEndpoint, Timeouts
from ledger_gateway.fabric.identity import SigningIdentity
from tests.unit.fabric_material import T0, block, endorser_envelope, make_identity

SERVER_NAME = "peer0.test.curex.local"
REFUSAL = 'CUREX:{"code":"UNKNOWN_TRANSFER","reason":"none","current_state":null}'


def _tls_material() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(T0 - timedelta(days=3650))
        .not_valid_after(T0 + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def _verify(identity: SigningIdentity, signature: bytes, message: bytes) -> None:
    public_key = x509.load_pem_x509_certificate(identity.certificate_pem).public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))


def _args_of(signed: proposal_pb2.SignedProposal) -> list[bytes]:
    proposal = proposal_pb2.Proposal.FromString(signed.proposal_bytes)
    payload = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload)
    return list(
        chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input).chaincode_spec.input.args
    )


def _check_tx_id(signed: proposal_pb2.SignedProposal, tx_id: str) -> None:
    header = common_pb2.Header.FromString(
        proposal_pb2.Proposal.FromString(signed.proposal_bytes).header
    )
    signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
    assert tx_id == sha256(signature_header.nonce + signature_header.creator).hexdigest()
    assert common_pb2.ChannelHeader.FromString(header.channel_header).tx_id == tx_id


class FakePeer(gateway_pb2_grpc.GatewayServicer, events_pb2_grpc.DeliverServicer):
    def __init__(self, identity: SigningIdentity) -> None:
        self.identity = identity
        self.submitted: list[str] = []
        self.statuses: dict[str, int] = {}
        self.blocks = [block(n, b"", [], []) for n in range(5)]
        self.deliver_status = common_pb2.SUCCESS

    async def Evaluate(self, request, context):  # type: ignore[no-untyped-def]
        _verify(
            self.identity,
            request.proposed_transaction.signature,
            request.proposed_transaction.proposal_bytes,
        )
        _check_tx_id(request.proposed_transaction, request.transaction_id)
        args = _args_of(request.proposed_transaction)
        if args[0] == b"GetBlockByTxID":
            return gateway_pb2.EvaluateResponse(
                result=proposal_response_pb2.Response(
                    status=200, payload=self.blocks[3].SerializeToString()
                )
            )
        return gateway_pb2.EvaluateResponse(
            result=proposal_response_pb2.Response(status=200, payload=b"|".join(args))
        )

    async def Endorse(self, request, context):  # type: ignore[no-untyped-def]
        _verify(
            self.identity,
            request.proposed_transaction.signature,
            request.proposed_transaction.proposal_bytes,
        )
        _check_tx_id(request.proposed_transaction, request.transaction_id)
        args = _args_of(request.proposed_transaction)
        if args[1] == b"refuse":
            status = Status(
                code=grpc.StatusCode.ABORTED.value[0], message="failed to endorse transaction"
            )
            detail = Any()
            detail.Pack(
                gateway_pb2.ErrorDetail(
                    address="127.0.0.1:7051",
                    msp_id="ES-SERMAS",
                    message=f"chaincode response 500, {REFUSAL}",
                )
            )
            status.details.append(detail)
            await context.abort(
                grpc.StatusCode.ABORTED,
                "failed to endorse transaction, see attached details for more info",
                trailing_metadata=(("grpc-status-details-bin", status.SerializeToString()),),
            )
        self.statuses[request.transaction_id] = {
            b"ok": transaction_pb2.VALID,
            b"conflict": transaction_pb2.MVCC_READ_CONFLICT,
            b"one-org": transaction_pb2.ENDORSEMENT_POLICY_FAILURE,
        }[args[1]]
        envelope = common_pb2.Envelope.FromString(
            endorser_envelope(
                self.identity,
                request.transaction_id,
                args=tuple(args),
                payload=b"result:" + args[1],
            )
        )
        return gateway_pb2.EndorseResponse(
            prepared_transaction=common_pb2.Envelope(payload=envelope.payload)
        )

    async def Submit(self, request, context):  # type: ignore[no-untyped-def]
        _verify(
            self.identity,
            request.prepared_transaction.signature,
            request.prepared_transaction.payload,
        )
        self.submitted.append(request.transaction_id)
        return gateway_pb2.SubmitResponse()

    async def CommitStatus(self, request, context):  # type: ignore[no-untyped-def]
        _verify(self.identity, request.signature, request.request)
        tx_id = gateway_pb2.CommitStatusRequest.FromString(request.request).transaction_id
        assert tx_id in self.submitted
        return gateway_pb2.CommitStatusResponse(result=self.statuses[tx_id], block_number=9)

    async def Deliver(self, request_iterator, context):  # type: ignore[no-untyped-def]
        async for envelope in request_iterator:
            _verify(self.identity, envelope.signature, envelope.payload)
            seek = ab_pb2.SeekInfo.FromString(common_pb2.Payload.FromString(envelope.payload).data)
            if self.deliver_status != common_pb2.SUCCESS:
                yield events_pb2.DeliverResponse(status=self.deliver_status)
                continue
            start = seek.start.specified.number
            if start >= len(self.blocks) and seek.behavior == ab_pb2.SeekInfo.FAIL_IF_NOT_READY:
                yield events_pb2.DeliverResponse(status=common_pb2.NOT_FOUND)
                continue
            stop = (
                len(self.blocks) - 1 if seek.stop.HasField("newest") else seek.stop.specified.number
            )
            for raw in self.blocks[start : stop + 1]:
                yield events_pb2.DeliverResponse(block=raw)
            if seek.behavior == ab_pb2.SeekInfo.BLOCK_UNTIL_READY:
                await asyncio.Event().wait()  # no more blocks will come
            yield events_pb2.DeliverResponse(status=common_pb2.SUCCESS)


@pytest.fixture
async def peer() -> AsyncIterator[tuple[FakePeer, GatewayClient]]:
    identity = make_identity("ES-SERMAS")
    fake = FakePeer(identity)
    certificate, key = _tls_material()
    server = grpc.aio.server()
    gateway_pb2_grpc.add_GatewayServicer_to_server(fake, server)
    events_pb2_grpc.add_DeliverServicer_to_server(fake, server)
    port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials([(key, certificate)]))
    await server.start()
    client = GatewayClient(
        PeerEndpoint(f"127.0.0.1:{port}", certificate, SERVER_NAME), identity, "curex"
    )
    yield fake, client
    await client.close()
    await server.stop(None)


async def test_evaluate_returns_the_response_payload(peer: tuple[FakePeer, GatewayClient]) -> None:
    _, client = peer
    assert await client.evaluate("curex-transfer", "transfer", ["t-1"]) == b"transfer|t-1"


async def test_endorse_submit_and_commit(peer: tuple[FakePeer, GatewayClient]) -> None:
    fake, client = peer
    prepared, block_number = await client.submit_and_wait("curex-transfer", "submit", ["ok"])
    assert prepared.result == b"result:ok"
    assert fake.submitted == [prepared.tx_id]
    assert block_number == 9


async def test_a_read_conflict_and_a_policy_failure(peer: tuple[FakePeer, GatewayClient]) -> None:
    _, client = peer
    with pytest.raises(CommitConflict) as conflict:
        await client.submit_and_wait("curex-transfer", "submit", ["conflict"])
    assert conflict.value.validation_code == "MVCC_READ_CONFLICT"
    with pytest.raises(CommitFailed) as failed:
        await client.submit_and_wait("curex-transfer", "submit", ["one-org"])
    assert failed.value.validation_code == "ENDORSEMENT_POLICY_FAILURE"


async def test_a_chaincode_refusal_arrives_in_the_status_details(
    peer: tuple[FakePeer, GatewayClient],
) -> None:
    fake, client = peer
    with pytest.raises(ContractRejected) as refused:
        await client.endorse("curex-transfer", "submit", ["refuse"])
    assert refused.value.contract_code == "UNKNOWN_TRANSFER"
    assert refused.value.unanimous
    assert refused.value.details[0].msp_id == "ES-SERMAS"
    assert fake.submitted == []


async def test_an_unreachable_peer_is_ledger_unavailable() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    certificate, _ = _tls_material()
    client = GatewayClient(
        PeerEndpoint(f"127.0.0.1:{port}", certificate, SERVER_NAME),
        make_identity(),
        "curex",
        Timeouts(evaluate_s=2),
    )
    try:
        with pytest.raises(LedgerUnavailable):
            await client.evaluate("curex-transfer", "transfer", ["t-1"])
    finally:
        await client.close()


async def test_deliver_reads_a_range_and_nothing_beyond_the_newest(
    peer: tuple[FakePeer, GatewayClient],
) -> None:
    _, client = peer
    reader = BlockReader(client)
    assert [b.header.number async for b in reader.blocks(2, -1)] == [2, 3, 4]
    assert [b.header.number async for b in reader.blocks(1, 2)] == [1, 2]
    assert [b async for b in reader.blocks(5, -1)] == []


async def test_following_yields_blocks_as_they_come(peer: tuple[FakePeer, GatewayClient]) -> None:
    _, client = peer
    numbers = []
    async for parsed in BlockReader(client).follow(3):
        numbers.append(parsed.number)
        if len(numbers) == 2:
            break
    assert numbers == [3, 4]


async def test_a_refused_deliver_is_an_error(peer: tuple[FakePeer, GatewayClient]) -> None:
    fake, client = peer
    fake.deliver_status = common_pb2.FORBIDDEN
    with pytest.raises(GatewayError, match="FORBIDDEN"):
        _ = [b async for b in BlockReader(client).blocks(0, -1)]
    fake.deliver_status = common_pb2.SERVICE_UNAVAILABLE
    with pytest.raises(LedgerUnavailable):
        _ = [b async for b in BlockReader(client).blocks(0, -1)]


async def test_qscc_block_number_of_a_transaction(peer: tuple[FakePeer, GatewayClient]) -> None:
    _, client = peer
    assert await BlockReader(client).block_number_of("some-tx") == 3
