"""Fabric: with dozens of transactions in flight, every committed one reaches Kafka once."""

import asyncio

import pytest

from curex.block_watch import BlockWatcher, reached
from infra.settings import InfraSettings
from producers.publisher import CommandPublisher
from schemas import TransferState
from tests.conftest import SessionWorld
from tests.ledger_access import stack_ledger

pytestmark = [pytest.mark.integration, pytest.mark.ledger("fabric")]
TRANSFERS = 48  # x 4 transactions each (create, audit, bypass, availability)


async def test_chaincode_and_block_events_of_many_concurrent_transfers_all_reach_kafka(
    stack: InfraSettings, publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    creates = [world.create(emergency=True) for _ in range(TRANSFERS)]
    ids = [c.transfer_id for c in creates]
    await asyncio.gather(*(publisher.publish(c) for c in creates))

    await watcher.wait_until(ids, reached(TransferState.DATA_AVAILABLE), within=180)

    async with stack_ledger(stack) as ledger:
        for tid in ids:
            on_kafka = {(r.tx_id, r.block_number) for r in watcher.committed(tid)}
            on_ledger = {(h.tx_id, h.block_number) for h in await ledger.history(tid)}
            # Every transaction the peer holds for the transfer was published with the
            # block number the peer reports for it, and nothing else was.
            assert on_kafka == on_ledger, tid
            assert len(on_ledger) == 4, tid
