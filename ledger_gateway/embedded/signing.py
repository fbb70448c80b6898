"""Signed batches for the embedded ledger: each organisation's gateway signs what it submits
with its own Ed25519 key; the ledger verifies the signature against the keys the members
registered (the embedded counterpart of a Fabric creator's certificate and its MSP).

One signature covers a whole batch: it is made over the SHA-256 digests of the batch's
commands, so it costs two public-key operations per batch, not per command, and any
committed command can later be checked against its block's signed digests.
"""

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)

from ledger_gateway.chaincode import WrongSigner
from schemas import LedgerCommand

_DOMAIN = b"curex-embedded-batch-v1\n"


def command_digest(command: LedgerCommand) -> bytes:
    return stored_command_digest(command.model_dump(mode="json"))


def stored_command_digest(command: object) -> bytes:
    """The digest of a command as JSON (as a transaction stores it), canonically."""
    return hashlib.sha256(orjson.dumps(command, option=orjson.OPT_SORT_KEYS)).digest()


def _signed_message(digests: Sequence[bytes]) -> bytes:
    return _DOMAIN + b"".join(digests)


@dataclass(frozen=True, slots=True)
class SignedBatch:
    commands: list[LedgerCommand]
    signer: str
    signature: bytes

    @property
    def digests(self) -> list[bytes]:
        return [command_digest(command) for command in self.commands]


class CommandSigner:
    """One organisation's signing key; a gateway holds exactly one."""

    def __init__(self, org: str, key: Ed25519PrivateKey) -> None:
        self.org = org
        self._key = key

    @classmethod
    def from_file(cls, org: str, path: Path) -> "CommandSigner":
        key = load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise TypeError(f"{path} does not hold an Ed25519 private key")
        return cls(org, key)

    def sign(self, commands: list[LedgerCommand]) -> SignedBatch:
        digests = [command_digest(command) for command in commands]
        return SignedBatch(commands, self.org, self._key.sign(_signed_message(digests)))


def public_key_text(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


class Membership:
    """The members' registered public keys: who may sign on the embedded ledger."""

    def __init__(self, keys: Mapping[str, Ed25519PublicKey]) -> None:
        self._keys = dict(keys)

    @classmethod
    def from_file(cls, path: Path) -> "Membership":
        document: dict[str, str] = json.loads(path.read_text())
        return cls(
            {
                org: Ed25519PublicKey.from_public_bytes(base64.b64decode(text))
                for org, text in document.items()
            }
        )

    def verifies(self, signer: str, signature: bytes, digests: Sequence[bytes]) -> bool:
        key = self._keys.get(signer)
        if key is None:
            return False
        try:
            key.verify(signature, _signed_message(digests))
        except InvalidSignature:
            return False
        return True

    def authenticate(self, batch: SignedBatch, digests: Sequence[bytes]) -> str:
        """The signing member, once its signature over ``digests`` verifies; WrongSigner
        otherwise."""
        if batch.signer not in self._keys:
            raise WrongSigner(f"{batch.signer} has no key registered on this ledger")
        if not self.verifies(batch.signer, batch.signature, digests):
            raise WrongSigner(f"the signature is not {batch.signer}'s")
        return batch.signer
