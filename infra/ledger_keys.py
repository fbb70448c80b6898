"""The embedded ledger's signing keys: an Ed25519 key per member organisation, generated per
installation (0600, handed only to that organisation's gateway), and the members' public
keys the ledger verifies signatures against."""

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from infra.settings import InfraSettings
from ledger_gateway.embedded.signing import public_key_text


def signing_key_path(settings: InfraSettings, org: str) -> Path:
    """``org``'s private key, generated on first use."""
    directory = settings.secrets_dir
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    path = directory / f"ledger-signing-{org.lower()}.pem"
    if not path.is_file():
        pem = Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
        path.touch(mode=0o600)
        path.write_bytes(pem)
    return path


def members_file(settings: InfraSettings) -> Path:
    return settings.data_dir / "ledger" / "members.json"


def register_members(settings: InfraSettings) -> Path:
    """Writes every member's public key where the embedded ledger reads them."""
    keys = {}
    for org in settings.network.members:
        key = load_pem_private_key(signing_key_path(settings, org).read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise TypeError(f"the signing key of {org} is not an Ed25519 key")
        keys[org] = public_key_text(key.public_key())
    path = members_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(keys, indent=2, sort_keys=True))
    return path
