"""verify() recomputes the world state and history that reads are served from, and names
any row edited behind the ledger's back."""

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger_gateway.chaincode.contract import TRANSFER
from ledger_gateway.chaincode.state_store import composite_key
from ledger_gateway.embedded.codec import pack, unpack
from ledger_gateway.embedded.store import history_entry
from ledger_gateway.port import Committed
from schemas import Action, ApplyActionTx, AuditRiskTx, TransferState
from tests.integration.ledger_commands import SignedEmbedded, command, create, seed
from tests.unit.contract_world import REQUESTING, SOURCE, system

TRANSFERS = ("t-state-0001", "t-state-0002", "t-state-0003")
KEY = composite_key(TRANSFER, TRANSFERS[0])


@pytest.fixture
def moved(tmp_path: Path) -> Path:
    """A ledger whose transfers went through several states, in several blocks."""
    path = tmp_path / "moved.sqlite"
    ledger = SignedEmbedded(path)
    seed(ledger)
    steps = [
        [create(t) for t in TRANSFERS],
        [command(system(REQUESTING), AuditRiskTx(transfer_id=t), t) for t in TRANSFERS],
        [
            command(
                system(REQUESTING), ApplyActionTx(transfer_id=t, action=Action.BYPASS_CONSENT), t
            )
            for t in TRANSFERS
        ],
        [
            command(
                system(SOURCE), ApplyActionTx(transfer_id=t, action=Action.DECLARE_AVAILABLE), t
            )
            for t in TRANSFERS[:2]
        ],
    ]
    for batch in steps:
        assert all(isinstance(o, Committed) for o in ledger.submit(batch))
    transfer = ledger.transfer(TRANSFERS[0])
    assert transfer is not None
    assert transfer.state is TransferState.DATA_AVAILABLE
    report = ledger.verify()
    assert report.ok, report.problem
    assert report.blocks_checked == ledger.height()
    ledger.close()
    return path


def _edit(path: Path, sql: str, *args: object) -> None:
    conn = sqlite3.connect(path)
    assert conn.execute(sql, args).rowcount == 1
    conn.commit()
    conn.close()


def _last_block_of(path: Path, key: str) -> int:
    conn = sqlite3.connect(path)
    (block,) = conn.execute(
        "SELECT MAX(block_number) FROM history WHERE key = ?", (key,)
    ).fetchone()
    conn.close()
    return int(block)


def test_verify_names_the_last_write_of_a_world_state_row_edited_in_sqlite(moved: Path) -> None:
    conn = sqlite3.connect(moved)
    (value,) = conn.execute("SELECT value FROM world_state WHERE key = ?", (KEY,)).fetchone()
    conn.close()
    plain = unpack(bytes(value))
    forged = plain.replace(b'"state":"DATA_AVAILABLE"', b'"state":"DATA_TRANSFERRED"')
    assert forged != plain
    _edit(moved, "UPDATE world_state SET value = ? WHERE key = ?", pack(forged), KEY)
    ledger = SignedEmbedded(moved)
    transfer = ledger.transfer(TRANSFERS[0])
    assert transfer is not None
    assert transfer.state is TransferState.DATA_TRANSFERRED  # what reads now serve

    report = ledger.verify()

    assert not report.ok
    assert report.first_bad_block == _last_block_of(moved, KEY)
    assert report.problem is not None
    assert "world state" in report.problem
    assert TRANSFERS[0] in report.problem


def test_verify_names_the_block_of_a_history_row_edited_in_sqlite(moved: Path) -> None:
    conn = sqlite3.connect(moved)
    rowid, block, position, tx_id, timestamp, value = conn.execute(
        "SELECT rowid, block_number, position, tx_id, timestamp, value FROM history "
        "WHERE key = ? ORDER BY block_number LIMIT 1 OFFSET 1",
        (KEY,),
    ).fetchone()
    entry = history_entry(conn, KEY, (block, position), (tx_id, timestamp, bytes(value)))
    conn.close()
    forged = entry.value.replace(b'"emergency":true', b'"emergency":false')
    assert forged != entry.value
    # The row now holds its own (forged) value, as rows from before bodies held values.
    _edit(
        moved,
        "UPDATE history SET tx_id = ?, timestamp = ?, value = ? WHERE rowid = ?",
        entry.tx_id,
        entry.timestamp.isoformat(),
        forged,
        rowid,
    )

    report = SignedEmbedded(moved).verify()

    assert not report.ok
    assert report.first_bad_block == block
    assert report.problem is not None
    assert "history" in report.problem


Edit = Callable[[Path], None]


def _drop_world_state_row(path: Path) -> None:
    _edit(path, "DELETE FROM world_state WHERE key = ?", KEY)


def _add_world_state_row(path: Path) -> None:
    forged = composite_key(TRANSFER, "t-never-written")
    _edit(path, "INSERT INTO world_state VALUES (?, ?)", forged, b"{}")


def _drop_history_row(path: Path) -> None:
    _edit(path, "DELETE FROM history WHERE rowid = (SELECT MIN(rowid) FROM history)")


def _add_stray_history_row(path: Path) -> None:
    _edit(
        path,
        "INSERT INTO history SELECT key, block_number, 99, tx_id, timestamp, value "
        "FROM history WHERE key = ? ORDER BY block_number DESC LIMIT 1",
        KEY,
    )


def _move_history_row(path: Path) -> None:
    _edit(
        path,
        "UPDATE history SET position = position + 1 WHERE rowid = "
        "(SELECT MAX(rowid) FROM history WHERE key = ?)",
        KEY,
    )


@pytest.mark.parametrize(
    "edit",
    [
        _drop_world_state_row,
        _add_world_state_row,
        _drop_history_row,
        _add_stray_history_row,
        _move_history_row,
    ],
)
def test_verify_catches_rows_added_dropped_or_moved_in_world_state_and_history(
    moved: Path, edit: Edit
) -> None:
    edit(moved)

    report = SignedEmbedded(moved).verify()

    assert not report.ok
    assert report.problem is not None
