"""The embedded ledger stores packed documents, and still reads a ledger from before."""

import base64
import sqlite3
from pathlib import Path

import orjson

from ledger_gateway.embedded.blocks import GENESIS_PREVIOUS_HASH, block_hash, merkle_root
from ledger_gateway.embedded.codec import PACKED_V2, is_packed, unpack
from ledger_gateway.embedded.store import IN_BODY
from processors.intake import system_actor
from schemas import Action, ApplyActionTx, AuditRiskTx, LedgerCommand
from tests.integration.ledger_commands import SignedEmbedded, create, seed
from tests.unit.contract_world import REQUESTING

TRANSFER = "t-storage-1"


def _path_of_one_transfer(path: Path) -> SignedEmbedded:
    ledger = SignedEmbedded(path)
    seed(ledger)
    ledger.submit([create(TRANSFER)])
    ledger.submit(
        [
            LedgerCommand(
                correlation_id=TRANSFER,
                actor=system_actor(REQUESTING),
                tx=AuditRiskTx(transfer_id=TRANSFER),
            )
        ]
    )
    ledger.submit(
        [
            LedgerCommand(
                correlation_id=TRANSFER,
                actor=system_actor(REQUESTING),
                tx=ApplyActionTx(transfer_id=TRANSFER, action=Action.BYPASS_CONSENT),
            )
        ]
    )
    return ledger


def _to_the_format_before_packing(path: Path) -> None:
    """Rewrite every row as the ledger stored it before: plain bodies whose writes are
    base64, plain values, history rows holding their tx id, time and value; and the
    blocks' Merkle roots and hashes over those bodies."""
    conn = sqlite3.connect(path)
    with conn:
        previous = GENESIS_PREVIOUS_HASH
        blocks = conn.execute("SELECT number, timestamp FROM blocks ORDER BY number").fetchall()
        for number, timestamp in blocks:
            rows = conn.execute(
                "SELECT rowid, body FROM transactions WHERE block_number = ? ORDER BY position",
                (number,),
            ).fetchall()
            bodies = []
            for rowid, body in rows:
                document = orjson.loads(unpack(body))
                for key, value in document["writes"]:
                    conn.execute(
                        "UPDATE history SET tx_id = ?, timestamp = ?, value = ? "
                        "WHERE key = ? AND block_number = ? AND position = ?",
                        (
                            document["tx_id"],
                            document["timestamp"],
                            value.encode(),
                            key,
                            number,
                            document["position"],
                        ),
                    )
                document["writes"] = [
                    [key, base64.b64encode(value.encode()).decode()]
                    for key, value in document["writes"]
                ]
                del document["rules"]  # bodies named no rules version then
                plain = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
                conn.execute("UPDATE transactions SET body = ? WHERE rowid = ?", (plain, rowid))
                bodies.append(plain)
            root = merkle_root(bodies)
            previous_hash, previous = previous, block_hash(number, previous, root, timestamp)
            conn.execute(
                "UPDATE blocks SET previous_hash = ?, merkle_root = ?, hash = ? WHERE number = ?",
                (previous_hash, root, previous, number),
            )
        for key, value in conn.execute("SELECT key, value FROM world_state").fetchall():
            conn.execute("UPDATE world_state SET value = ? WHERE key = ?", (unpack(value), key))
    conn.close()


def test_bodies_and_world_state_are_stored_packed_and_history_points_into_the_body(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite"
    _path_of_one_transfer(path).close()
    conn = sqlite3.connect(path)
    bodies = [bytes(b) for (b,) in conn.execute("SELECT body FROM transactions")]
    values = [bytes(v) for (v,) in conn.execute("SELECT value FROM world_state")]
    history = conn.execute("SELECT tx_id, timestamp, value FROM history").fetchall()
    conn.close()

    assert all(b.startswith(PACKED_V2) for b in bodies + values)
    assert all(unpack(b).startswith(b"{") for b in bodies)
    assert not any(is_packed(unpack(v)) for v in values)
    assert {(tx_id, ts, bytes(v)) for tx_id, ts, v in history} == {("", "", IN_BODY)}


def test_a_ledger_stored_before_packing_reads_and_verifies_the_same(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    ledger = _path_of_one_transfer(path)
    transfer, history = ledger.transfer(TRANSFER), ledger.history(TRANSFER)
    stream = ledger.committed_after(-1)
    ledger.close()

    _to_the_format_before_packing(path)
    before = SignedEmbedded(path)

    assert before.verify().ok
    assert before.transfer(TRANSFER) == transfer
    assert before.history(TRANSFER) == history
    assert before.committed_after(-1) == stream
    assert len(history) == 3


def test_a_damaged_packed_body_fails_verification_naming_its_block(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    _path_of_one_transfer(path).close()
    conn = sqlite3.connect(path)
    rowid, block, body = conn.execute(
        "SELECT rowid, block_number, body FROM transactions ORDER BY rowid DESC LIMIT 1"
    ).fetchone()
    damaged = bytes(body[:-5]) + bytes([body[-5] ^ 0x01]) + bytes(body[-4:])
    with conn:
        conn.execute("UPDATE transactions SET body = ? WHERE rowid = ?", (damaged, rowid))
    conn.close()

    report = SignedEmbedded(path).verify()

    assert not report.ok
    assert report.first_bad_block == block


def test_a_history_row_forged_in_a_ledger_from_before_is_held_to_the_recorded_writes(
    tmp_path: Path,
) -> None:
    """No replay for transactions made under other rules: their recorded writes decide."""
    path = tmp_path / "ledger.sqlite"
    _path_of_one_transfer(path).close()
    _to_the_format_before_packing(path)
    conn = sqlite3.connect(path)
    with conn:
        rowid, block, value = next(
            (rowid, block, value)
            for rowid, key, block, value in conn.execute(
                "SELECT rowid, key, block_number, value FROM history "
                "ORDER BY block_number DESC, position DESC"
            )
            if key == f"\x00transfer\x00{TRANSFER}\x00"
        )
        forged = bytes(value).replace(b'"emergency":true', b'"emergency":false')
        assert forged != bytes(value)
        conn.execute("UPDATE history SET value = ? WHERE rowid = ?", (forged, rowid))
    conn.close()

    report = SignedEmbedded(path).verify()

    assert not report.ok
    assert report.first_bad_block == block
    assert "recorded writes" in (report.problem or "")
