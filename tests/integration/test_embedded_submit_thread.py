"""Where the embedded port runs a submission: a small batch on the event loop (a worker
thread's hand-off cost more than its commit), a large one in a worker thread; either way
the same commit. Reading a page of the block stream follows the same rule."""

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger_gateway.embedded import EmbeddedLedger, EmbeddedLedgerPort
from ledger_gateway.embedded.signing import SignedBatch
from ledger_gateway.port import Committed, Outcome, SignedPage
from tests.integration.ledger_commands import MEMBERSHIP, SIGNERS, create
from tests.unit.contract_world import NETWORK, REQUESTING


class ThreadNoting(EmbeddedLedger):
    """Notes the thread each submission and each page read ran on (and the page's limit)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, NETWORK, MEMBERSHIP)
        self.submitted_on: list[int] = []
        self.read_on: list[tuple[int, int]] = []

    def submit(self, batch: SignedBatch) -> list[Outcome]:
        self.submitted_on.append(threading.get_ident())
        return super().submit(batch)

    def signed_after(
        self, signer: str, with_unsigned: bool, after: tuple[int, int], limit: int
    ) -> SignedPage:
        self.read_on.append((threading.get_ident(), limit))
        return super().signed_after(signer, with_unsigned, after, limit)


@pytest.fixture
def noting(tmp_path: Path) -> Iterator[tuple[ThreadNoting, EmbeddedLedgerPort]]:
    ledger = ThreadNoting(tmp_path / "ledger.sqlite")
    port = EmbeddedLedgerPort(ledger, SIGNERS[REQUESTING], inline_max=8)
    yield ledger, port
    port.close()


@pytest.mark.parametrize(
    ("commands", "on_the_loop"), [(3, True), (9, False)], ids=["small batch", "large batch"]
)
async def test_a_small_batch_is_submitted_on_the_loop_and_a_large_one_in_a_worker(
    noting: tuple[ThreadNoting, EmbeddedLedgerPort], commands: int, on_the_loop: bool
) -> None:
    ledger, port = noting
    transfers = [f"t-thread-{n:02d}" for n in range(commands)]
    outcomes = await port.submit([create(t) for t in transfers])
    assert all(isinstance(o, Committed) and not o.replayed for o in outcomes)
    assert (ledger.submitted_on == [threading.get_ident()]) is on_the_loop
    for transfer_id in transfers:
        assert await port.transfer(transfer_id) is not None


@pytest.mark.parametrize(
    ("commands", "on_the_loop"), [(3, True), (9, False)], ids=["short page", "long page"]
)
async def test_a_short_page_of_the_block_stream_is_read_on_the_loop_and_a_long_one_in_a_worker(
    noting: tuple[ThreadNoting, EmbeddedLedgerPort], commands: int, on_the_loop: bool
) -> None:
    ledger, port = noting
    transfers = [f"t-page-{n:02d}" for n in range(commands)]
    await port.submit([create(t) for t in transfers])
    page = await port.signed_after(REQUESTING, False, (-1, -1), 2000)
    assert [tx.command.correlation_id for tx in page.txs] == transfers
    on_loop = [limit for thread, limit in ledger.read_on if thread == threading.get_ident()]
    in_worker = [limit for thread, limit in ledger.read_on if thread != threading.get_ident()]
    assert on_loop == [8]  # the first look, always on the loop
    # The rest of a full first look, from where it ended: never those 8 rows again.
    assert in_worker == ([] if on_the_loop else [2000 - 8])


async def test_each_port_runs_its_worker_calls_on_one_thread_of_its_own(tmp_path: Path) -> None:
    # One connection's allocations then stay in one glibc arena: on the loop's shared pool
    # they spread over every pool thread's, and a gateway's RSS crept by 4-5 MiB a run.
    ledgers = [ThreadNoting(tmp_path / f"ledger-{n}.sqlite") for n in range(2)]
    ports = [EmbeddedLedgerPort(ledger, SIGNERS[REQUESTING], inline_max=1) for ledger in ledgers]
    try:
        for round_number in range(3):
            for n, port in enumerate(ports):
                transfers = [f"t-own-{n}-{round_number}-{i}" for i in range(2)]
                await port.submit([create(t) for t in transfers])
        threads = [set(ledger.submitted_on) for ledger in ledgers]
        assert [len(t) for t in threads] == [1, 1]
        assert threads[0] != threads[1]
        names = {t.ident: t.name for t in threading.enumerate()}
        assert all(names[next(iter(t))].startswith("embedded-ledger") for t in threads)
    finally:
        for port in ports:
            port.close()
