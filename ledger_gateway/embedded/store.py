"""A transaction's view of the embedded ledger: reads through pending writes to SQLite."""

import sqlite3
from collections.abc import Iterator
from datetime import datetime

import orjson

from ledger_gateway.chaincode import HistoryEntry
from ledger_gateway.embedded.codec import unpack

# A history row's value when its transaction's body holds it, with the tx id and time
# (every row written since bodies were stored packed); older rows hold all three.
IN_BODY = b""


class PendingState:
    """Writes of the block being built, visible to later transactions in the same block,
    and the committed values its transactions read."""

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}
        self.history: dict[str, list[HistoryEntry]] = {}
        # A block is built under the write lock, so no other writer changes what was read:
        # each transaction's audit reads the same policies and assessments, once per block.
        self.committed: dict[str, bytes | None] = {}

    def merge(self, tx_id: str, timestamp: datetime, writes: dict[str, bytes]) -> None:
        for key, value in writes.items():
            self.values[key] = value
            self.history.setdefault(key, []).append(HistoryEntry(tx_id, timestamp, value))


class TxStateStore:
    """Implements ``StateStore`` for one transaction; its writes stay local until merged."""

    def __init__(
        self, conn: sqlite3.Connection, pending: PendingState, tx_id: str, timestamp: datetime
    ) -> None:
        self._conn = conn
        self._pending = pending
        self._tx_id = tx_id
        self._timestamp = timestamp
        self.writes: dict[str, bytes] = {}

    def get_tx_id(self) -> str:
        return self._tx_id

    def get_tx_timestamp(self) -> datetime:
        return self._timestamp

    def get_state(self, key: str) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        if key in self._pending.values:
            return self._pending.values[key]
        if key in self._pending.committed:
            return self._pending.committed[key]
        row = self._conn.execute("SELECT value FROM world_state WHERE key = ?", (key,)).fetchone()
        value = None if row is None else unpack(bytes(row[0]))
        self._pending.committed[key] = value
        return value

    def put_state(self, key: str, value: bytes) -> None:
        self.writes[key] = value

    def get_state_by_range(self, start_key: str, end_key: str) -> Iterator[tuple[str, bytes]]:
        merged = {
            str(key): unpack(bytes(value))
            for key, value in self._conn.execute(
                "SELECT key, value FROM world_state WHERE key >= ? AND key < ?",
                (start_key, end_key),
            )
        }
        for layer in (self._pending.values, self.writes):
            merged.update({k: v for k, v in layer.items() if start_key <= k < end_key})
        return iter(sorted(merged.items()))

    def get_history_for_key(self, key: str) -> Iterator[HistoryEntry]:
        rows = self._conn.execute(
            "SELECT h.tx_id, h.timestamp, h.value, t.body FROM history h "
            "JOIN transactions t ON (t.block_number, t.position) = (h.block_number, h.position) "
            "WHERE h.key = ? ORDER BY h.block_number, h.position",
            (key,),
        ).fetchall()
        committed = [
            _entry(key, str(tx_id), str(ts), bytes(value), bytes(body))
            for tx_id, ts, value, body in rows
        ]
        return iter(committed + self._pending.history.get(key, []))


def history_entry(
    conn: sqlite3.Connection, key: str, at: tuple[int, int], row: tuple[str, str, bytes]
) -> HistoryEntry:
    """A history row (tx id, time, value) of ``key`` at (block, position), its value read
    from its transaction's body when the row points there."""
    tx_id, timestamp, value = row
    body = b""
    if value == IN_BODY:
        found = conn.execute(
            "SELECT body FROM transactions WHERE block_number = ? AND position = ?", at
        ).fetchone()
        if found is None:
            raise LookupError(f"a history row of {key!r} points at no transaction")
        body = bytes(found[0])
    return _entry(key, tx_id, timestamp, value, body)


def _entry(key: str, tx_id: str, timestamp: str, value: bytes, stored_body: bytes) -> HistoryEntry:
    if value != IN_BODY:  # a row from before values were kept only in the body
        return HistoryEntry(tx_id, datetime.fromisoformat(timestamp), value)
    body = orjson.loads(unpack(stored_body))
    return HistoryEntry(
        body["tx_id"], datetime.fromisoformat(body["timestamp"]), _written(key, body["writes"])
    )


def _written(key: str, writes: list[list[str]]) -> bytes:
    """The value a transaction wrote to ``key``, from its body's writes."""
    for written_key, value in writes:
        if written_key == key:
            return value.encode()
    raise LookupError(f"a history row names a transaction that did not write {key!r}")
