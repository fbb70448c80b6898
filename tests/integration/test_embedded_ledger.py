"""The embedded ledger: blocks, replay, history, and tamper detection with verify()."""

import sqlite3
from pathlib import Path

import pytest

from ledger_gateway.embedded import EmbeddedLedger
from ledger_gateway.port import Committed, Rejected
from schemas import (
    Action,
    ApplyActionTx,
    AuditRiskTx,
    CreateTransferTx,
    LedgerCommand,
    OrganisationPolicy,
    Party,
    RecordRiskScoreTx,
    RiskAssessment,
    Role,
    SetPolicyTx,
    Transaction,
    TransferState,
)
from schemas.actors import Actor
from tests.unit.contract_world import PATIENT, REQUESTING, SOURCE, actor_for, system


def command(actor: Actor, tx: Transaction, correlation: str = "setup") -> LedgerCommand:
    return LedgerCommand(correlation_id=correlation, actor=actor, tx=tx)


def seed(ledger: EmbeddedLedger) -> None:
    commands = []
    for org in (REQUESTING, SOURCE):
        commands.append(
            command(
                system(org),
                SetPolicyTx(
                    policy=OrganisationPolicy(
                        org_id=org, min_cybersecurity=50, min_privacy=50, consent_time_limit_s=3600
                    )
                ),
                org,
            )
        )
        commands.append(
            command(
                system(org),
                RecordRiskScoreTx(
                    assessment=RiskAssessment(
                        org_id=org, cybersecurity_score=80, privacy_score=80, source="CAT"
                    )
                ),
                org,
            )
        )
    assert all(isinstance(o, Committed) for o in ledger.submit(commands))


def create(transfer_id: str) -> LedgerCommand:
    return command(
        actor_for(Role.HEALTH_PROFESSIONAL, Party.REQUESTING_ORG),
        CreateTransferTx(
            transfer_id=transfer_id,
            source_org=SOURCE,
            patient_pseudonym=PATIENT,
            emergency=True,
            reason="continuity of care",
        ),
        transfer_id,
    )


@pytest.fixture
def ledger(tmp_path: Path) -> EmbeddedLedger:
    ledger = EmbeddedLedger(tmp_path / "ledger.sqlite")
    seed(ledger)
    return ledger


def test_a_batch_commits_as_one_block_chained_to_the_previous(ledger: EmbeddedLedger) -> None:
    outcomes = ledger.submit([create("t-block-1"), create("t-block-2")])
    assert [type(o) for o in outcomes] == [Committed, Committed]
    assert {o.block_number for o in outcomes if isinstance(o, Committed)} == {1}
    assert ledger.height() == 2
    assert ledger.verify().ok


def test_rejected_commands_write_nothing_and_do_not_stop_the_batch(
    ledger: EmbeddedLedger,
) -> None:
    bad = command(
        actor_for(Role.PATIENT, Party.PATIENT),
        ApplyActionTx(transfer_id="t-missing-1", action=Action.REVOKE),
        "t-missing-1",
    )
    outcomes = ledger.submit([bad, create("t-after-bad")])
    assert isinstance(outcomes[0], Rejected)
    assert outcomes[0].error.code == "UNKNOWN_TRANSFER"
    assert isinstance(outcomes[1], Committed)
    assert ledger.transfer("t-missing-1") is None


def test_resubmitting_a_command_returns_its_original_block_without_a_new_one(
    ledger: EmbeddedLedger,
) -> None:
    first = create("t-replay-1")
    [original] = ledger.submit([first])
    height = ledger.height()
    [again, in_same_batch] = ledger.submit([first, first])
    assert isinstance(original, Committed)
    assert isinstance(again, Committed)
    assert isinstance(in_same_batch, Committed)
    assert again.replayed
    assert in_same_batch.replayed
    assert (again.tx_id, again.block_number) == (original.tx_id, original.block_number)
    assert ledger.height() == height
    assert len(ledger.history("t-replay-1")) == 1


def test_history_lists_each_transition_with_its_tx_and_block(ledger: EmbeddedLedger) -> None:
    ledger.submit([create("t-history-1")])
    ledger.submit([command(system(REQUESTING), AuditRiskTx(transfer_id="t-history-1"))])
    history = ledger.history("t-history-1")
    assert [h.transition.to_state for h in history] == [
        TransferState.INITIALISED,
        TransferState.RISK_ACCEPTED,
    ]
    assert [h.block_number for h in history] == [1, 2]
    streamed = ledger.committed_after(0, 3, limit=10)
    assert [c.tx_id for c in streamed] == [h.tx_id for h in history]


def test_state_survives_reopening_the_database(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    ledger = EmbeddedLedger(path)
    seed(ledger)
    ledger.submit([create("t-reopen-1")])
    ledger.close()
    reopened = EmbeddedLedger(path)
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
    ledger = EmbeddedLedger(path)
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
            report = EmbeddedLedger(chain).verify()
            assert not report.ok
            assert report.first_bad_block == block_number
            conn.execute("UPDATE transactions SET body = ? WHERE rowid = ?", (original, rowid))
            conn.commit()
    assert EmbeddedLedger(chain).verify().ok


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
            report = EmbeddedLedger(chain).verify()
            assert not report.ok
            # A changed hash also breaks the next block's link; the first bad one is named.
            assert report.first_bad_block == number
            conn.execute(f"UPDATE blocks SET {column} = ? WHERE number = ?", (original, number))
            conn.commit()
    assert EmbeddedLedger(chain).verify().ok


def test_verify_detects_a_transaction_moved_to_another_block(chain: Path) -> None:
    conn = sqlite3.connect(chain)
    conn.execute("UPDATE transactions SET block_number = 1 WHERE block_number = 2")
    conn.commit()
    report = EmbeddedLedger(chain).verify()
    assert not report.ok
    assert report.first_bad_block == 1
