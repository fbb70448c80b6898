"""Hashing of the embedded ledger's blocks: transaction hashes, Merkle root, block hash."""

import hashlib


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def merkle_root(leaves: list[bytes]) -> str:
    """Root of a binary Merkle tree over the leaves' SHA-256; the last node pairs with itself."""
    if not leaves:
        return sha256_hex(b"")
    level = [hashlib.sha256(leaf).digest() for leaf in leaves]
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [
            hashlib.sha256(a + b).digest() for a, b in zip(level[::2], level[1::2], strict=True)
        ]
    return level[0].hex()


def block_hash(number: int, previous_hash: str, root: str, timestamp: str) -> str:
    return sha256_hex(f"{number}|{previous_hash}|{root}|{timestamp}".encode())


GENESIS_PREVIOUS_HASH = "0" * 64
