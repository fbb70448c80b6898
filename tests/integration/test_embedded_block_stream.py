"""The embedded ledger's block stream for one member: its own transactions, in ledger order,
the same whether the writer handed them over or the body is read back."""

import sqlite3
from pathlib import Path

from ledger_gateway.embedded import EmbeddedLedger, EmbeddedLedgerPort
from ledger_gateway.embedded.recent import RecentCommits
from tests.integration.ledger_commands import MEMBERSHIP, SIGNERS, create, seed_commands
from tests.unit.contract_world import NETWORK, REQUESTING, SOURCE

START = (-1, -1)


def _two_writers(path: Path, recent: RecentCommits) -> None:
    """Each member's writer commits its own batches, interleaved; one shares ``recent``."""
    requesting = EmbeddedLedger(path, NETWORK, MEMBERSHIP, recent=recent)
    source = EmbeddedLedger(path, NETWORK, MEMBERSHIP)
    seed = seed_commands()
    for writer, org in ((requesting, REQUESTING), (source, SOURCE)):
        own = [c for c in seed if NETWORK.host_of(c.actor.org) == org]
        writer.submit(SIGNERS[org].sign(own))
    for n in range(3):
        requesting.submit(SIGNERS[REQUESTING].sign([create(f"t-stream-{n}-{i}") for i in range(2)]))
    requesting.close()
    source.close()


def test_a_member_reads_only_what_it_signed_and_the_frontier_covers_everyone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite"
    _two_writers(path, RecentCommits())
    reader = EmbeddedLedger(path, NETWORK, MEMBERSHIP)
    everything = reader.committed_after(-1, -1, 1000)

    for org in (REQUESTING, SOURCE):
        page = reader.signed_after(org, False, START, 1000)
        assert page.txs == [tx for tx in everything if tx.signer == org]
        assert page.frontier == (everything[-1].block_number, everything[-1].position)
    assert reader.signed_after(SOURCE, False, page.frontier or START, 1000).frontier is None


def test_a_full_page_ends_at_its_last_transaction_and_the_next_one_goes_on_from_there(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite"
    _two_writers(path, RecentCommits())
    reader = EmbeddedLedger(path, NETWORK, MEMBERSHIP)
    own = reader.signed_after(REQUESTING, False, START, 1000).txs

    first = reader.signed_after(REQUESTING, False, START, 3)
    second = reader.signed_after(REQUESTING, False, first.frontier or START, 1000)

    assert first.frontier == (first.txs[-1].block_number, first.txs[-1].position)
    assert first.txs + second.txs == own


def test_what_the_writer_hands_over_equals_what_the_stored_body_says(tmp_path: Path) -> None:
    recent = RecentCommits()
    path = tmp_path / "ledger.sqlite"
    _two_writers(path, recent)
    handed_over = EmbeddedLedger(path, NETWORK, MEMBERSHIP, recent=recent)
    read_back = EmbeddedLedger(path, NETWORK, MEMBERSHIP)

    from_memory = handed_over.signed_after(REQUESTING, False, START, 1000).txs
    from_bodies = read_back.signed_after(REQUESTING, False, START, 1000).txs

    assert from_memory == from_bodies
    assert recent.take(from_memory[-1].tx_id) is None  # taken once, then gone


def test_transactions_from_before_signing_go_to_the_member_that_publishes_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite"
    _two_writers(path, RecentCommits())
    conn = sqlite3.connect(path)
    with conn:  # the first block as a ledger from before signed batches stored it
        conn.execute("DELETE FROM block_signatures WHERE block_number = 0")
    conn.close()
    reader = EmbeddedLedger(path, NETWORK, MEMBERSHIP)
    first_block = [tx.tx_id for tx in reader.committed_after(-1, -1, 1000) if tx.block_number == 0]

    with_unsigned = reader.signed_after(SOURCE, True, START, 1000).txs
    without = reader.signed_after(SOURCE, False, START, 1000).txs
    others = reader.signed_after(REQUESTING, False, START, 1000).txs

    assert first_block
    assert [tx.tx_id for tx in with_unsigned if tx.block_number == 0] == first_block
    assert not [tx for tx in without + others if tx.block_number == 0]


async def test_the_port_reads_a_long_page_in_two_looks_as_the_ledger_reads_it_in_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite"
    _two_writers(path, RecentCommits())
    whole = EmbeddedLedger(path, NETWORK, MEMBERSHIP)
    # (member, page limit, first look): SOURCE signed 2 transactions, REQUESTING 8; a first
    # look of exactly SOURCE's 2 leaves a second look that finds only the frontier.
    cases = ((REQUESTING, 1000, 2), (REQUESTING, 5, 2), (SOURCE, 1000, 1), (SOURCE, 1000, 2))
    for org, limit, first_look in cases:
        port = EmbeddedLedgerPort(EmbeddedLedger(path, NETWORK, MEMBERSHIP), inline_max=first_look)
        try:
            expected = whole.signed_after(org, False, START, limit)
            assert len(expected.txs) >= first_look  # the first look is full: a second follows
            assert await port.signed_after(org, False, START, limit) == expected
        finally:
            port.close()
    whole.close()
