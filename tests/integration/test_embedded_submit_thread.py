"""Where the embedded port runs a submission: a small batch on the event loop (a worker
thread's hand-off cost more than its commit), a large one in a worker thread; either way
the same commit."""

import threading
from pathlib import Path

import pytest

from ledger_gateway.embedded import EmbeddedLedger, EmbeddedLedgerPort
from ledger_gateway.embedded.signing import SignedBatch
from ledger_gateway.port import Committed, Outcome
from tests.integration.ledger_commands import MEMBERSHIP, SIGNERS, create
from tests.unit.contract_world import NETWORK, REQUESTING


class ThreadNoting(EmbeddedLedger):
    def __init__(self, path: Path) -> None:
        super().__init__(path, NETWORK, MEMBERSHIP)
        self.ran_on: list[int] = []

    def submit(self, batch: SignedBatch) -> list[Outcome]:
        self.ran_on.append(threading.get_ident())
        return super().submit(batch)


@pytest.mark.parametrize(
    ("commands", "on_the_loop"), [(3, True), (9, False)], ids=["small batch", "large batch"]
)
async def test_a_small_batch_is_submitted_on_the_loop_and_a_large_one_in_a_worker(
    tmp_path: Path, commands: int, on_the_loop: bool
) -> None:
    ledger = ThreadNoting(tmp_path / "ledger.sqlite")
    port = EmbeddedLedgerPort(ledger, SIGNERS[REQUESTING], inline_max=8)
    try:
        transfers = [f"t-thread-{n:02d}" for n in range(commands)]
        outcomes = await port.submit([create(t) for t in transfers])
        assert all(isinstance(o, Committed) and not o.replayed for o in outcomes)
        assert (ledger.ran_on == [threading.get_ident()]) is on_the_loop
        for transfer_id in transfers:
            assert await port.transfer(transfer_id) is not None
    finally:
        port.close()
