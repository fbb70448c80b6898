"""Recomputing the embedded ledger's world state and history from its blocks.

Reads are served from the ``world_state`` and ``history`` tables, which no hash covers, so
``verify`` runs every stored transaction's command through the contract again, in ledger
order, on the state as it stood before that transaction, and compares what it writes with
the history rows filed under it; then every world-state row with the last write to its key.
The state a replayed transaction reads comes from history rows already compared, so the
replay holds no copy of the world in memory.
"""

import base64
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger_gateway.chaincode import (
    RULES_VERSION,
    ContractError,
    HistoryEntry,
    TransferContract,
)
from ledger_gateway.embedded.codec import unpack
from ledger_gateway.embedded.store import history_entry
from schemas import LedgerCommand
from schemas.network import Network

# The latest history row of a key before a (block, position): the state a transaction saw.
_AS_OF = (
    "SELECT block_number, position, tx_id, timestamp, value FROM history WHERE key = ? "
    "AND (block_number, position) < (?, ?) ORDER BY block_number DESC, position DESC LIMIT 1"
)


def _resolved(conn: sqlite3.Connection, key: str, row: tuple[Any, ...]) -> HistoryEntry:
    """A history row (block, position, tx id, time, value) with its value in hand."""
    block, position, tx_id, timestamp, value = row
    return history_entry(
        conn, key, (int(block), int(position)), (str(tx_id), str(timestamp), bytes(value))
    )


@dataclass(frozen=True, slots=True)
class StoredTransaction:
    """What a replay needs of a stored transaction, whatever else its body holds."""

    block_number: int
    position: int
    tx_id: str
    timestamp: datetime
    command: LedgerCommand
    signer: str | None
    result: dict[str, Any] | None


def stored_transaction(document: dict[str, Any]) -> StoredTransaction:
    """The replay's input from a transaction body (as ``_execute_block`` writes it)."""
    return StoredTransaction(
        block_number=int(document["block_number"]),
        position=int(document["position"]),
        tx_id=str(document["tx_id"]),
        timestamp=datetime.fromisoformat(document["timestamp"]),
        command=LedgerCommand.model_validate(document["command"]),
        signer=document.get("signer"),
        result=document.get("result"),
    )


class _StateBefore:
    """``StateStore`` of one replayed transaction: the state before it, its writes local."""

    def __init__(self, conn: sqlite3.Connection, tx: StoredTransaction) -> None:
        self._conn = conn
        self._tx = tx
        self._before = (tx.block_number, tx.position)
        self.writes: dict[str, bytes] = {}

    def get_tx_id(self) -> str:
        return self._tx.tx_id

    def get_tx_timestamp(self) -> datetime:
        return self._tx.timestamp

    def get_state(self, key: str) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        row = self._conn.execute(_AS_OF, (key, *self._before)).fetchone()
        return None if row is None else _resolved(self._conn, key, row).value

    def put_state(self, key: str, value: bytes) -> None:
        self.writes[key] = value

    def get_state_by_range(self, start_key: str, end_key: str) -> Iterator[tuple[str, bytes]]:
        keys = [
            str(key)
            for (key,) in self._conn.execute(
                "SELECT DISTINCT key FROM history WHERE key >= ? AND key < ? "
                "AND (block_number, position) < (?, ?)",
                (start_key, end_key, *self._before),
            )
        ]
        merged = {key: value for key in keys if (value := self.get_state(key)) is not None}
        merged.update({k: v for k, v in self.writes.items() if start_key <= k < end_key})
        return iter(sorted(merged.items()))

    def get_history_for_key(self, key: str) -> Iterator[HistoryEntry]:
        rows = self._conn.execute(
            "SELECT block_number, position, tx_id, timestamp, value FROM history WHERE key = ? "
            "AND (block_number, position) < (?, ?) ORDER BY block_number, position",
            (key, *self._before),
        ).fetchall()
        return iter([_resolved(self._conn, key, row) for row in rows])


def _as_signed(signer: str, org: str) -> Network:
    """The network as the transaction found it, as far as its signer goes: ``signer`` hosts
    ``org``. The block's signature proves who signed, and the members and hosting of that
    day may differ from today's configuration, which must not fail an honest replay."""
    return Network(members=(signer,), hosting={} if org == signer else {org: signer})


class HistoryInOrder:
    """The history rows in ledger order, read in one pass beside the replay: the table has
    no index by block and position, and a look-up per transaction scanned it each time."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._rows = conn.execute(
            "SELECT block_number, position, key, tx_id, timestamp, value FROM history "
            "ORDER BY block_number, position"
        )
        self._next = self._rows.fetchone()

    def take(
        self, block_number: int, position: int
    ) -> tuple[list[tuple[str, tuple[Any, ...]]], str | None]:
        """The rows filed under a transaction (key, and the row as ``_resolved`` takes it),
        and the key of a row met before them that is filed under no transaction."""
        rows: list[tuple[str, tuple[Any, ...]]] = []
        stray: str | None = None
        while self._next is not None and (self._next[0], self._next[1]) <= (
            block_number,
            position,
        ):
            row_block, row_position, key, tx_id, timestamp, value = self._next
            if (row_block, row_position) == (block_number, position):
                rows.append((str(key), (row_block, row_position, tx_id, timestamp, value)))
            elif stray is None:
                stray = str(key)
            self._next = self._rows.fetchone()
        return rows, stray

    def left_over(self) -> tuple[int, str] | None:
        """A row after the last transaction: its block and key."""
        return None if self._next is None else (int(self._next[0]), str(self._next[2]))


def replay_problem(
    conn: sqlite3.Connection,
    document: dict[str, Any],
    history: HistoryInOrder,
    base64_writes: bool = False,
) -> str | None:
    """Check the history rows filed under a stored transaction: against its replay when
    today's rules made it, else against the writes its (hash-covered) body recorded."""
    tx_id = str(document["tx_id"])
    rows, stray = history.take(int(document["block_number"]), int(document["position"]))
    if stray is not None:
        return f"history row of {stray!r} belongs to no transaction"
    stored: set[tuple[str, str, str, bytes | None]] = set()
    for key, row in rows:
        entry = _resolved(conn, key, row)
        stored.add((key, entry.tx_id, entry.timestamp.isoformat(), entry.value))
    if document.get("rules") != RULES_VERSION:
        # Made under other rules: today's contract may decide it differently, so the
        # rows are held to what the transaction recorded it wrote.
        timestamp = datetime.fromisoformat(document["timestamp"]).isoformat()
        recorded = {
            (
                str(key),
                tx_id,
                timestamp,
                base64.b64decode(value) if base64_writes else value.encode(),
            )
            for key, value in document["writes"]
        }
        if stored != recorded:
            keys = sorted({row[0] for row in stored ^ recorded})
            return (
                f"history of transaction {tx_id!r} differs from its recorded writes at {keys[0]!r}"
            )
        return None
    return _replayed_problem(conn, stored_transaction(document), stored)


def _replayed_problem(
    conn: sqlite3.Connection, tx: StoredTransaction, stored: set[tuple[str, str, str, bytes | None]]
) -> str | None:
    """Run ``tx`` again; name what differs from the history rows (and result) stored for it."""
    store = _StateBefore(conn, tx)
    command = tx.command
    # Transactions from before commands were signed name no signer.
    signer = tx.signer or command.actor.org
    try:
        result = TransferContract(store, _as_signed(signer, command.actor.org)).submit(
            str(command.event_id), command.actor, command.tx, signer
        )
    except ContractError as error:
        return f"transaction {tx.tx_id!r} does not replay: {error.code} {error.reason}"
    if tx.result is not None and result.model_dump(mode="json") != tx.result:
        return f"transaction {tx.tx_id!r} replays to another result than the one stored"
    replayed = {
        (key, tx.tx_id, tx.timestamp.isoformat(), value) for key, value in store.writes.items()
    }
    if stored != replayed:
        keys = sorted({row[0] for row in stored ^ replayed})
        return f"history of transaction {tx.tx_id!r} differs from its replay at {keys[0]!r}"
    return None


def state_problem(
    conn: sqlite3.Connection, history: HistoryInOrder
) -> tuple[int | None, str] | None:
    """Compare world state with the last history row of each key (checked by the replay);
    the block of the contradicted write and what differs, or None."""
    stray = history.left_over()
    if stray is not None:
        return stray[0], f"history row of {stray[1]!r} belongs to no transaction"
    rows = conn.execute(
        "SELECT w.key, w.value, h.block_number, h.position, h.tx_id, h.timestamp, h.value "
        "FROM world_state w LEFT JOIN history h ON h.key = w.key "
        "AND (h.block_number, h.position) = (SELECT block_number, position FROM history "
        "WHERE key = w.key ORDER BY block_number DESC, position DESC LIMIT 1)"
    ).fetchall()
    for key, value, block, *last in rows:
        if block is None:
            return None, f"world state holds {key!r}, which no transaction wrote"
        try:
            state = unpack(bytes(value))
        except ValueError:
            return int(block), f"world state of {key!r} is not readable"
        if state != _resolved(conn, str(key), (block, *last)).value:
            return int(block), f"world state of {key!r} differs from its last write"
    missing = conn.execute(
        "SELECT key, MAX(block_number) FROM history "
        "WHERE key NOT IN (SELECT key FROM world_state) GROUP BY key LIMIT 1"
    ).fetchone()
    if missing is not None:
        return int(missing[1]), f"world state lacks {missing[0]!r}, which a transaction wrote"
    return None
