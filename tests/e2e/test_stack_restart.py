"""`curex down` then `curex up`: the ledger, the topics and the work in flight survive."""

import pytest

from curex.block_watch import BlockWatcher, reached
from infra.settings import InfraSettings
from infra.stack import stop_stack
from infra.testing import ensure_stack
from producers.publisher import CommandPublisher
from schemas import MarkTransferred, TransferState
from tests.conftest import SessionWorld
from tests.ledger_access import stack_ledger

pytestmark = pytest.mark.integration


async def test_a_transfer_started_before_down_continues_after_up(
    stack: InfraSettings, publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    create = world.create(emergency=True)
    tid = create.transfer_id
    await publisher.publish_and_wait(create)
    await watcher.wait_until([tid], reached(TransferState.DATA_AVAILABLE), within=60)

    stop_stack(stack)
    ensure_stack([], stack)

    async with stack_ledger(stack) as ledger:
        kept = await ledger.transfer(tid)
        assert kept is not None
        assert kept.state is TransferState.DATA_AVAILABLE
        assert (await ledger.verify()).ok
    await publisher.publish_and_wait(
        MarkTransferred(correlation_id=tid, transfer_id=tid, actor=world.doctor(world.source))
    )
    await watcher.wait_until([tid], reached(TransferState.DATA_TRANSFERRED), within=90)
    async with stack_ledger(stack) as ledger:
        path = [item.transition.to_state for item in await ledger.history(tid)]
    S = TransferState
    assert path == [
        S.INITIALISED,
        S.RISK_ACCEPTED,
        S.EMERGENCY_BYPASS,
        S.DATA_AVAILABLE,
        S.DATA_TRANSFERRED,
    ]
