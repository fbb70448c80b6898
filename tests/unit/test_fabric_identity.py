"""The Fabric signing identity: MSP loading, creator bytes, low-S ECDSA signatures."""

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from fabric_protos.msp import identities_pb2

from ledger_gateway.fabric.identity import IdentityError, SigningIdentity, low_s
from tests.unit.fabric_material import make_identity, write_msp_dir

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def test_loads_cryptogens_msp_layout(tmp_path: Path) -> None:
    made = make_identity("SE-KI")
    loaded = SigningIdentity.from_msp_dir("SE-KI", write_msp_dir(made, tmp_path / "msp"))
    assert loaded.msp_id == "SE-KI"
    assert loaded.certificate_pem == made.certificate_pem
    assert loaded.creator() == made.creator()


def test_a_key_of_another_certificate_is_refused(tmp_path: Path) -> None:
    msp = write_msp_dir(make_identity(), tmp_path / "msp")
    (msp / "signcerts" / "User1-cert.pem").write_bytes(make_identity().certificate_pem)
    with pytest.raises(IdentityError, match="does not belong"):
        SigningIdentity.from_msp_dir("ES-SERMAS", msp)


def test_an_msp_dir_without_a_key_is_refused(tmp_path: Path) -> None:
    msp = write_msp_dir(make_identity(), tmp_path / "msp")
    (msp / "keystore" / "priv_sk").unlink()
    with pytest.raises(IdentityError, match="keystore"):
        SigningIdentity.from_msp_dir("ES-SERMAS", msp)


def test_creator_is_the_serialized_msp_identity() -> None:
    identity = make_identity("ES-SERMAS")
    serialized = identities_pb2.SerializedIdentity.FromString(identity.creator())
    assert serialized.mspid == "ES-SERMAS"
    assert serialized.id_bytes == identity.certificate_pem


def test_signatures_verify_with_the_certificates_key_and_have_low_s() -> None:
    identity = make_identity()
    public_key = x509.load_pem_x509_certificate(identity.certificate_pem).public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    # About half of raw ECDSA signatures have a high S: 64 messages all but surely hit some.
    for i in range(64):
        message = f"proposal {i}".encode()
        signature = identity.sign(message)
        public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        _, s = decode_dss_signature(signature)
        assert s <= P256_ORDER // 2


def test_low_s_flips_a_high_s_and_keeps_the_signature_valid() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    message = b"envelope payload"
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    high = encode_dss_signature(r, max(s, P256_ORDER - s))
    normalised = low_s(high)
    assert decode_dss_signature(normalised) == (r, min(s, P256_ORDER - s))
    key.public_key().verify(normalised, message, ec.ECDSA(hashes.SHA256()))
    assert low_s(normalised) == normalised
