"""`curex down` then `curex up`: the ledger, the topics and the work in flight survive."""

import pytest

from infra.settings import InfraSettings
from infra.stack import stop_stack
from infra.testing import ensure_stack
from ledger_gateway.embedded import EmbeddedLedger
from ledger_gateway.settings import GatewaySettings
from producers.block_watch import BlockWatcher, reached
from producers.publisher import CommandPublisher
from schemas import MarkTransferred, TransferState
from tests.conftest import SessionWorld

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

    ledger = EmbeddedLedger(GatewaySettings().ledger_path)
    try:
        kept = ledger.transfer(tid)
        assert kept is not None
        assert kept.state is TransferState.DATA_AVAILABLE
        assert ledger.verify().ok
    finally:
        ledger.close()
    await publisher.publish_and_wait(
        MarkTransferred(correlation_id=tid, transfer_id=tid, actor=world.doctor(world.source))
    )
    await watcher.wait_until([tid], reached(TransferState.DATA_TRANSFERRED), within=90)
    ledger = EmbeddedLedger(GatewaySettings().ledger_path)
    try:
        path = [item.transition.to_state for item in ledger.history(tid)]
    finally:
        ledger.close()
    S = TransferState
    assert path == [
        S.INITIALISED,
        S.RISK_ACCEPTED,
        S.EMERGENCY_BYPASS,
        S.DATA_AVAILABLE,
        S.DATA_TRANSFERRED,
    ]
