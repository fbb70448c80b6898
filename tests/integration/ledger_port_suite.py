"""The ledger port's contract: every adapter (embedded, Fabric) must pass these tests.

Subclass ``LedgerPortSuite`` and provide a ``ledger`` fixture seeded with
``seed_port`` (both demo-style organisations with passing policies and scores). Transfer
ids are unique per test, so the suite also runs against a long-lived Fabric network.
"""

import uuid

from ledger_gateway.port import Committed, Ledger, Rejected
from schemas import Action, ApplyActionTx, AuditRiskTx, Party, Role, TransferState
from tests.integration.ledger_commands import command, create
from tests.unit.contract_world import REQUESTING, actor_for, system


def _id(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


class LedgerPortSuite:
    async def test_committed_transactions_land_in_a_new_block(self, ledger: Ledger) -> None:
        height = await ledger.height()
        second = _id("t-block-2")
        outcomes = await ledger.submit([create(_id("t-block-1")), create(second)])
        assert [type(o) for o in outcomes] == [Committed, Committed]
        assert all(o.block_number >= height for o in outcomes if isinstance(o, Committed))
        assert await ledger.height() > height
        assert await ledger.transfer(second) is not None

    async def test_rejected_commands_write_nothing_and_do_not_stop_the_batch(
        self, ledger: Ledger
    ) -> None:
        missing = _id("t-missing")
        bad = command(
            actor_for(Role.PATIENT, Party.PATIENT),
            ApplyActionTx(transfer_id=missing, action=Action.REVOKE),
            missing,
        )
        outcomes = await ledger.submit([bad, create(_id("t-after-bad"))])
        assert isinstance(outcomes[0], Rejected)
        assert outcomes[0].error.code == "UNKNOWN_TRANSFER"
        assert isinstance(outcomes[1], Committed)
        assert await ledger.transfer(missing) is None

    async def test_resubmitting_a_command_returns_its_original_block_without_a_new_one(
        self, ledger: Ledger
    ) -> None:
        transfer_id = _id("t-replay")
        first = create(transfer_id)
        [original] = await ledger.submit([first])
        height = await ledger.height()
        [again, in_same_batch] = await ledger.submit([first, first])
        assert isinstance(original, Committed)
        assert isinstance(again, Committed)
        assert isinstance(in_same_batch, Committed)
        assert again.replayed
        assert in_same_batch.replayed
        assert (again.tx_id, again.block_number) == (original.tx_id, original.block_number)
        assert await ledger.height() == height
        assert len(await ledger.history(transfer_id)) == 1

    async def test_history_lists_each_transition_with_its_tx_and_block(
        self, ledger: Ledger
    ) -> None:
        transfer_id = _id("t-history")
        [created] = await ledger.submit([create(transfer_id)])
        [audited] = await ledger.submit(
            [command(system(REQUESTING), AuditRiskTx(transfer_id=transfer_id))]
        )
        if isinstance(audited, Rejected):
            # On the stack's ledger the running processors audit every new transfer too.
            assert audited.error.code == "ILLEGAL_TRANSITION"
        history = await ledger.history(transfer_id)
        assert [h.transition.to_state for h in history][:2] == [
            TransferState.INITIALISED,
            TransferState.RISK_ACCEPTED,
        ]
        assert isinstance(created, Committed)
        assert (history[0].tx_id, history[0].block_number) == (
            created.tx_id,
            created.block_number,
        )
        if isinstance(audited, Committed):
            assert (history[1].tx_id, history[1].block_number) == (
                audited.tx_id,
                audited.block_number,
            )
        streamed = await ledger.committed_after(created.block_number - 1, 1_000_000)
        ours = [
            c.tx_id
            for c in streamed
            if c.result.transfer is not None and c.result.transfer.transfer_id == transfer_id
        ]
        assert ours == [h.tx_id for h in history]
