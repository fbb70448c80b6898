"""What the block watcher reports of a transfer when the block stream repeats itself."""

from curex.block_watch import latest_state
from schemas import Action, TransactionCommitted, TransferState, TxResult
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
