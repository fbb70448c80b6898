"""Checking a Fabric block chain's hash links, the way the peer computes them.

A block header's hash is SHA-256 over the ASN.1 DER encoding of
``SEQUENCE { INTEGER number, OCTET STRING previous_hash, OCTET STRING data_hash }``;
the data hash is SHA-256 over the block's concatenated transaction envelopes.
"""

from collections.abc import Iterable
from hashlib import sha256

from fabric_protos.common import common_pb2

from ledger_gateway.port import VerifyReport


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def _der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def _der_unsigned(value: int) -> bytes:
    # Two's complement, minimal: a leading zero byte keeps a high first bit positive.
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def header_hash(header: common_pb2.BlockHeader) -> bytes:
    body = (
        _der_unsigned(header.number)
        + _der(0x04, header.previous_hash)
        + _der(0x04, header.data_hash)
    )
    return sha256(_der(0x30, body)).digest()


def data_hash(data: common_pb2.BlockData) -> bytes:
    return sha256(b"".join(data.data)).digest()


def verify_chain(blocks: Iterable[common_pb2.Block]) -> VerifyReport:
    """Blocks from number 0 in order; names the first whose number, data or link is wrong."""
    checked = 0
    previous: bytes | None = None
    for expected_number, block in enumerate(blocks):
        header = block.header
        if header.number != expected_number:
            return VerifyReport(
                False, checked, expected_number, f"block number {header.number} out of order"
            )
        if data_hash(block.data) != header.data_hash:
            return VerifyReport(
                False, checked, expected_number, "data hash does not match the transactions"
            )
        if previous is not None and header.previous_hash != previous:
            return VerifyReport(
                False, checked, expected_number, "previous hash does not match the preceding block"
            )
        previous = header_hash(header)
        checked += 1
    return VerifyReport(True, checked)
