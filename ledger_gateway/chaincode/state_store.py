"""The contract's view of the ledger, shaped like Fabric's chaincode stub.

The embedded ledger implements it over SQLite; a Fabric shim adapter implements it
over the peer. Composite keys use Fabric's encoding so indexes read the same on both.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

_NS = "\x00"
_MAX_UNICODE = "\U0010ffff"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    tx_id: str
    timestamp: datetime
    value: bytes | None  # None when the key was deleted in that transaction


class StateStore(Protocol):
    def get_tx_id(self) -> str: ...

    def get_tx_timestamp(self) -> datetime: ...

    def get_state(self, key: str) -> bytes | None: ...

    def put_state(self, key: str, value: bytes) -> None: ...

    def get_state_by_range(self, start_key: str, end_key: str) -> Iterator[tuple[str, bytes]]: ...

    def get_history_for_key(self, key: str) -> Iterator[HistoryEntry]: ...


def composite_key(object_type: str, *attributes: str) -> str:
    """Fabric's composite key encoding: U+0000 type U+0000 attr U+0000 ..."""
    for part in (object_type, *attributes):
        if _NS in part or _MAX_UNICODE in part:
            raise ValueError("composite key parts must not contain U+0000 or U+10FFFF")
    return _NS + object_type + _NS + "".join(attr + _NS for attr in attributes)


def split_composite_key(key: str) -> tuple[str, list[str]]:
    parts = key.split(_NS)
    return parts[1], parts[2:-1]


def by_partial_composite_key(
    store: StateStore, object_type: str, *attributes: str
) -> Iterator[tuple[str, bytes]]:
    start = composite_key(object_type, *attributes)
    return store.get_state_by_range(start, start + _MAX_UNICODE)
