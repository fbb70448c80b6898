"""What the block watcher reports of a transfer when the block stream repeats itself."""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from curex.block_watch import BlockWatcher, latest_state
from schemas import Action, LedgerReport, TransactionCommitted, TransferState, TxResult
from service_runtime.kafka_access import KafkaAccess
from tests.unit.contract_world import REQUESTING, World, system

TRANSFER = "transfer-watch-1"


def committed(result: TxResult, block_number: int) -> TransactionCommitted:
    return TransactionCommitted(
        correlation_id=TRANSFER,
        command_event_id=result.tx_id,
        tx_id=result.tx_id,
        block_number=block_number,
        result=result,
    )


def test_an_event_published_again_after_a_kill_does_not_take_the_state_back() -> None:
    world = World()
    world.seed_orgs()
    world.create(TRANSFER, emergency=True)
    audited = world.act(TRANSFER, Action.ACCEPT_RISK, system(REQUESTING))
    bypassed = world.act(TRANSFER, Action.BYPASS_CONSENT, system(REQUESTING))
    arrivals = [
        committed(audited, 4),
        committed(bypassed, 6),
        # The gateway that signed the audit, started again, publishes it again.
        committed(audited, 4),
    ]

    assert latest_state(arrivals) is TransferState.EMERGENCY_BYPASS


class _Batches:
    """A follower whose batches the test hands over one at a time."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[list[Any]] = asyncio.Queue()

    async def __aenter__(self) -> "_Batches":
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def batches(self, max_records: int = 0) -> AsyncIterator[list[Any]]:
        while True:
            yield await self.queue.get()


class _Record:
    def __init__(self, report: TransactionCommitted) -> None:
        self.value = report.model_dump_json().encode()


async def test_waits_look_only_at_transfers_with_new_reports_and_each_ends_on_its_own() -> None:
    world = World()
    world.seed_orgs()
    ids = [f"transfer-watch-{n}" for n in range(40)]
    results = {t: world.create(t, emergency=True) for t in ids}
    feed = _Batches()
    watcher = BlockWatcher(KafkaAccess("127.0.0.1:1"), feed)
    looked: list[str] = []

    def done_for(wanted: str) -> Callable[[list[LedgerReport]], bool]:
        def done(reports: list[LedgerReport]) -> bool:
            looked.append(wanted)
            return bool(reports)

        return done

    following = asyncio.create_task(watcher._follow())
    first = asyncio.create_task(watcher.wait_until(ids[:20], done_for("first"), within=5))
    second = asyncio.create_task(watcher.wait_until(ids[20:], done_for("second"), within=5))
    await asyncio.sleep(0)  # both waits have looked once
    for transfer_id in ids:
        transfer = results[transfer_id]
        tx = world.store.get_tx_id()
        report = TransactionCommitted(
            correlation_id=transfer_id,
            command_event_id=tx,
            tx_id=tx,
            block_number=1,
            result=TxResult(tx_id=tx, op="create_transfer", transfer=transfer),
        )
        await feed.queue.put([_Record(report)])
        for _ in range(3):  # the watcher takes the batch, then each wait looks
            await asyncio.sleep(0)
    await asyncio.wait_for(asyncio.gather(first, second), timeout=5)
    following.cancel()

    # Each transfer looked at once at the start and once when its report came: not once
    # for every batch that arrived while it waited.
    assert looked.count("first") <= 2 * 20
    assert looked.count("second") <= 2 * 20
