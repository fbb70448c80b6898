"""Compact stored forms of the read model's identifiers (pure).

Ledger transaction ids are SHA-256 digests in hex on both ledgers: stored as their 32
bytes, half the space in the table and its index. Any other id is kept whole, behind a
tag byte, so every id round-trips exactly. Patient pseudonyms are always 64 hex digits.
"""

import re

_HEX = re.compile(r"^(?:[0-9a-f]{2})+$")
_DIGEST = b"\x01"
_TEXT = b"\x02"


def tx_key(tx_id: str) -> bytes:
    if _HEX.match(tx_id):
        return _DIGEST + bytes.fromhex(tx_id)
    return _TEXT + tx_id.encode()


def tx_id_of(key: bytes) -> str:
    tag, body = key[:1], key[1:]
    return body.hex() if tag == _DIGEST else body.decode()


def pseudonym_key(pseudonym: str) -> bytes:
    return bytes.fromhex(pseudonym)


def pseudonym_of(key: bytes) -> str:
    return key.hex()
