"""A block's transactions read committed world state once per key, and always see what an
earlier transaction of the same block wrote."""

import sqlite3
from datetime import UTC, datetime

from ledger_gateway.embedded.codec import pack
from ledger_gateway.embedded.store import PendingState, TxStateStore

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
POLICY = "policy~SE-KI"


def world(statements: list[str]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE world_state (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
    conn.execute("INSERT INTO world_state VALUES (?, ?)", (POLICY, pack(b'{"min":60}')))
    conn.set_trace_callback(statements.append)
    return conn


def test_a_block_reads_each_committed_key_from_sqlite_once() -> None:
    statements: list[str] = []
    conn = world(statements)
    pending = PendingState()
    for n in range(5):
        store = TxStateStore(conn, pending, f"tx-{n}", NOW)
        assert store.get_state(POLICY) == b'{"min":60}'
        assert store.get_state("transfer~absent") is None
    assert len([s for s in statements if "FROM world_state" in s]) == 2


def test_a_value_written_earlier_in_the_block_is_read_over_the_committed_one() -> None:
    conn = world([])
    pending = PendingState()
    first = TxStateStore(conn, pending, "tx-1", NOW)
    assert first.get_state(POLICY) == b'{"min":60}'
    first.put_state(POLICY, b'{"min":80}')
    pending.merge("tx-1", NOW, first.writes)
    second = TxStateStore(conn, pending, "tx-2", NOW)
    assert second.get_state(POLICY) == b'{"min":80}'


def test_the_next_block_reads_committed_state_again() -> None:
    statements: list[str] = []
    conn = world(statements)
    TxStateStore(conn, PendingState(), "tx-1", NOW).get_state(POLICY)
    conn.execute("UPDATE world_state SET value = ? WHERE key = ?", (pack(b'{"min":90}'), POLICY))
    assert TxStateStore(conn, PendingState(), "tx-2", NOW).get_state(POLICY) == b'{"min":90}'
