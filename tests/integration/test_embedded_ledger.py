"""The embedded ledger: blocks, replay, history, and tamper detection with verify()."""

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_gateway.chaincode import TransferContract
from ledger_gateway.embedded import EmbeddedLedgerPort
from ledger_gateway.embedded.signing import CommandSigner
from ledger_gateway.port import Committed, Ledger, Rejected
from schemas import (
    TransferState,
)
from tests.integration.ledger_commands import SignedEmbedded, create, embedded_port, seed, seed_port
from tests.integration.ledger_port_suite import LedgerPortSuite
from tests.unit.contract_world import REQUESTING


class TestEmbeddedLedgerHonoursTheLedgerPort(LedgerPortSuite):
    @pytest.fixture
    async def ledger(self, tmp_path: Path) -> AsyncIterator[Ledger]:
        port = embedded_port(tmp_path / "ledger.sqlite")
        await seed_port(port)
        yield port
        for member in port.by_org.values():
            assert isinstance(member, EmbeddedLedgerPort)
            member.close()


def test_a_batch_is_one_block_chained_to_the_previous(tmp_path: Path) -> None:
    ledger = SignedEmbedded(tmp_path / "ledger.sqlite")
    seed(ledger)  # one block per signing organisation
    seeded = ledger.height()
    outcomes = ledger.submit([create("t-block-1"), create("t-block-2")])
    assert {o.block_number for o in outcomes if isinstance(o, Committed)} == {seeded}
    assert ledger.height() == seeded + 1
    assert ledger.verify().ok


def test_state_survives_reopening_the_database(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    ledger = SignedEmbedded(path)
    seed(ledger)
    ledger.submit([create("t-reopen-1")])
    ledger.close()
    reopened = SignedEmbedded(path)
    transfer = reopened.transfer("t-reopen-1")
    assert transfer is not None
    assert transfer.state is TransferState.INITIALISED
    assert reopened.verify().ok


def _flip_byte(conn: sqlite3.Connection, table: str, column: str, rowid: int, index: int) -> None:
    (value,) = conn.execute(f"SELECT {column} FROM {table} WHERE rowid = ?", (rowid,)).fetchone()
    raw = bytearray(value.encode() if isinstance(value, str) else value)
    raw[index % len(raw)] ^= 0x01
    altered = raw.decode("latin-1") if isinstance(value, str) else bytes(raw)
    conn.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (altered, rowid))
    conn.commit()


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    path = tmp_path / "chain.sqlite"
    ledger = SignedEmbedded(path)
    seed(ledger)
    for n in range(3):
        ledger.submit([create(f"t-chain-{n}-{i}") for i in range(3)])
    assert ledger.verify().ok
    ledger.close()
    return path


@pytest.mark.parametrize("seed_index", range(6))
def test_verify_names_the_block_of_any_single_flipped_byte_in_a_transaction(
    chain: Path, seed_index: int
) -> None:
    conn = sqlite3.connect(chain)
    rows = conn.execute("SELECT rowid, block_number, length(body) FROM transactions").fetchall()
    for rowid, block_number, length in rows:
        for index in (seed_index, length // 2 + seed_index, length - 1 - seed_index):
            original = conn.execute(
                "SELECT body FROM transactions WHERE rowid = ?", (rowid,)
            ).fetchone()[0]
            _flip_byte(conn, "transactions", "body", rowid, index)
            report = SignedEmbedded(chain).verify()
            assert not report.ok
            assert report.first_bad_block == block_number
            conn.execute("UPDATE transactions SET body = ? WHERE rowid = ?", (original, rowid))
            conn.commit()
    assert SignedEmbedded(chain).verify().ok


@pytest.mark.parametrize("column", ["previous_hash", "merkle_root", "timestamp", "hash"])
def test_verify_names_the_block_of_any_single_flipped_byte_in_a_block_header(
    chain: Path, column: str
) -> None:
    conn = sqlite3.connect(chain)
    for (number,) in conn.execute("SELECT number FROM blocks").fetchall():
        (original,) = conn.execute(
            f"SELECT {column} FROM blocks WHERE number = ?", (number,)
        ).fetchone()
        for index in range(0, len(original), 7):
            _flip_byte(conn, "blocks", column, number, index)
            report = SignedEmbedded(chain).verify()
            assert not report.ok
            # A changed hash also breaks the next block's link; the first bad one is named.
            assert report.first_bad_block == number
            conn.execute(f"UPDATE blocks SET {column} = ? WHERE number = ?", (original, number))
            conn.commit()
    assert SignedEmbedded(chain).verify().ok


def test_verify_detects_a_transaction_moved_to_another_block(chain: Path) -> None:
    conn = sqlite3.connect(chain)
    conn.execute("UPDATE transactions SET block_number = 1 WHERE block_number = 2")
    conn.commit()
    report = SignedEmbedded(chain).verify()
    assert not report.ok
    assert report.first_bad_block == 1


def test_a_command_that_breaks_the_contract_is_rejected_and_the_rest_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = SignedEmbedded(tmp_path / "ledger.sqlite")
    seed(ledger)
    poison, healthy = create("t-poison-1"), create("t-healthy-1")
    original = TransferContract.submit

    def submit_failing_on_poison(self: TransferContract, event_id: str, *args: object) -> object:
        if event_id == str(poison.event_id):
            raise RuntimeError("defect in the contract")
        return original(self, event_id, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(TransferContract, "submit", submit_failing_on_poison)
    first, second = ledger.submit([poison, healthy])
    assert isinstance(first, Rejected)
    assert first.error.code == "CONTRACT_FAILURE"
    assert isinstance(second, Committed)
    assert ledger.verify().ok


def test_a_batch_signed_by_a_key_the_ledger_does_not_know_changes_nothing(
    tmp_path: Path,
) -> None:
    ledger = SignedEmbedded(tmp_path / "ledger.sqlite")
    seed(ledger)
    height = ledger.height()
    impostor = CommandSigner(REQUESTING, Ed25519PrivateKey.generate())

    outcomes = ledger.ledger.submit(impostor.sign([create("t-impostor-1")]))

    assert [o.error.code for o in outcomes if isinstance(o, Rejected)] == ["WRONG_SIGNER"]
    assert ledger.height() == height
    assert ledger.transfer("t-impostor-1") is None


def test_verify_names_a_block_whose_transaction_was_not_among_what_its_signer_signed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite"
    ledger = SignedEmbedded(path)
    seed(ledger)
    ledger.submit([create("t-signed-1")])
    block = ledger.height() - 1
    conn = sqlite3.connect(path)
    conn.execute(
        "UPDATE block_signatures SET digests = zeroblob(32) WHERE block_number = ?", (block,)
    )
    conn.commit()
    conn.close()

    report = SignedEmbedded(path).verify()

    assert not report.ok
    assert report.first_bad_block == block
