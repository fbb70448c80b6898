"""A Fabric client identity: an MSP id, its X.509 certificate and its ECDSA P-256 key.

Fabric verifies ECDSA signatures over the SHA-256 digest of the signed bytes and rejects
signatures whose S lies in the upper half of the curve order (they are malleable), so
``sign`` normalises S to the lower half.
"""

from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from fabric_protos.msp import identities_pb2

from ledger_gateway.fabric.errors import IdentityError

# The order of the P-256 group.
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_HALF_ORDER = _P256_ORDER >> 1


def low_s(signature: bytes) -> bytes:
    """The same ECDSA signature (DER) with S in the lower half of the P-256 order."""
    r, s = decode_dss_signature(signature)
    if s > _HALF_ORDER:
        s = _P256_ORDER - s
    return encode_dss_signature(r, s)


@dataclass(frozen=True, slots=True)
class SigningIdentity:
    msp_id: str
    certificate_pem: bytes
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    _creator: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.private_key.curve, ec.SECP256R1):
            raise IdentityError(f"{self.msp_id}: only P-256 keys are supported")
        serialized = identities_pb2.SerializedIdentity(
            mspid=self.msp_id, id_bytes=self.certificate_pem
        )
        object.__setattr__(self, "_creator", bytes(serialized.SerializeToString()))

    @classmethod
    def from_msp_dir(cls, msp_id: str, msp_dir: Path) -> "SigningIdentity":
        """Loads ``signcerts/*.pem`` and ``keystore/*_sk`` (cryptogen's layout)."""
        return cls.from_files(
            msp_id,
            _single(msp_dir / "signcerts", "*.pem"),
            _single(msp_dir / "keystore", "*_sk"),
        )

    @classmethod
    def from_files(cls, msp_id: str, certificate: Path, private_key: Path) -> "SigningIdentity":
        """A PEM certificate and its unencrypted PEM (PKCS#8 or SEC1) P-256 key."""
        certificate_pem = certificate.read_bytes()
        key = serialization.load_pem_private_key(private_key.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise IdentityError(f"{private_key}: not an ECDSA key")
        identity = cls(msp_id, certificate_pem, key)
        if x509.load_pem_x509_certificate(certificate_pem).public_key() != key.public_key():
            raise IdentityError(f"{private_key}: the key does not belong to {certificate}")
        return identity

    def creator(self) -> bytes:
        """The serialized ``msp.SerializedIdentity`` that signature headers carry."""
        return self._creator

    def sign(self, message: bytes) -> bytes:
        """ECDSA over SHA-256(message), DER encoded, low S."""
        return low_s(self.private_key.sign(message, ec.ECDSA(hashes.SHA256())))


def _single(directory: Path, pattern: str) -> Path:
    found = sorted(directory.glob(pattern))
    if len(found) != 1:
        raise IdentityError(f"expected one {pattern} in {directory}, found {len(found)}")
    return found[0]
