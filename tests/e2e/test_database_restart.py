"""The Applications Database restarts while the projector is writing: every committed
transaction still becomes visible, once, and the API answers again."""

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from psycopg_pool import AsyncConnectionPool

from curex.block_watch import BlockWatcher, reached
from infra.postgres.server import database_url
from infra.settings import InfraSettings
from infra.supervision import Supervisor
from producers.publisher import CommandPublisher
from read_model.queries import ApplicationsDatabase
from schemas import TransferState
from tests.conftest import SessionWorld

pytestmark = [pytest.mark.integration, pytest.mark.crash]
TRANSFERS = 60


@pytest.fixture
async def database(stack: InfraSettings) -> AsyncIterator[ApplicationsDatabase]:
    pool = AsyncConnectionPool(
        database_url(stack),
        min_size=1,
        max_size=2,
        open=False,
        check=AsyncConnectionPool.check_connection,
    )
    await pool.open(wait=True, timeout=30)
    yield ApplicationsDatabase(pool)
    await pool.close()


async def visible_states(
    database: ApplicationsDatabase, ids: list[str]
) -> dict[str, TransferState]:
    states: dict[str, TransferState] = {}
    for tid in ids:
        view = await database.transfer(tid)
        if view is not None:
            states[tid] = view.state
    return states


async def wait_visible(
    database: ApplicationsDatabase, ids: list[str], within: float
) -> dict[str, TransferState]:
    deadline = time.monotonic() + within
    states: dict[str, TransferState] = {}
    while time.monotonic() < deadline:
        try:
            states = await visible_states(database, ids)
        except Exception:
            states = {}
        if set(states.values()) == {TransferState.DATA_AVAILABLE} and len(states) == len(ids):
            break
        await asyncio.sleep(0.5)  # polling the database for a state, with a deadline
    return states


def retries(stack: InfraSettings) -> float:
    metrics = httpx.get(f"http://127.0.0.1:{stack.read_model_port}/metrics", timeout=10).text
    for family in text_string_to_metric_families(metrics):
        if family.name == "curex_read_model_batch_retries":
            return sum(sample.value for sample in family.samples if sample.name.endswith("_total"))
    return 0.0


async def test_transfers_committed_while_the_database_is_down_all_become_visible(
    stack: InfraSettings,
    publisher: CommandPublisher,
    watcher: BlockWatcher,
    world: SessionWorld,
    database: ApplicationsDatabase,
) -> None:
    before, during = (
        [world.create(emergency=True) for _ in range(TRANSFERS // 3)],
        [world.create(emergency=True) for _ in range(TRANSFERS - TRANSFERS // 3)],
    )
    first_ids, later_ids = [c.transfer_id for c in before], [c.transfer_id for c in during]
    for create in before:
        await publisher.publish(create)
    assert await wait_visible(database, first_ids, within=60) == dict.fromkeys(
        first_ids, TransferState.DATA_AVAILABLE
    )
    retried = retries(stack)
    supervisor = Supervisor(stack)
    await asyncio.to_thread(supervisor.stop, "postgres")
    try:
        for create in during:
            await publisher.publish(create)
        # The ledger commits everything while the projector cannot write.
        await watcher.wait_until(later_ids, reached(TransferState.DATA_AVAILABLE), within=120)
        await wait_retried(stack, retried, within=30)
    finally:
        await asyncio.to_thread(supervisor.start, "postgres")

    ids = first_ids + later_ids
    assert await wait_visible(database, ids, within=120) == dict.fromkeys(
        ids, TransferState.DATA_AVAILABLE
    )
    for tid in later_ids[:5]:
        view = await database.transfer(tid)
        assert view is not None
        assert len({h.tx_id for h in view.history}) == len(view.history) == 4


async def wait_retried(stack: InfraSettings, before: float, within: float) -> None:
    """The projector has met the stopped database with work to write (not merely idle)."""
    deadline = time.monotonic() + within
    while retries(stack) <= before:
        assert time.monotonic() < deadline, "the projector never tried to write while down"
        await asyncio.sleep(0.2)  # polling the projector's metrics, with a deadline
