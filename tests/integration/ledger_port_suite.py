"""The ledger port's contract: every adapter (embedded, Fabric) must pass these tests.

Subclass ``LedgerPortSuite`` and provide a ``ledger`` fixture seeded with
``seed_orgs`` (both demo-style organisations with passing policies and scores).
"""

from ledger_gateway.port import Committed, Ledger, Rejected
from schemas import Action, ApplyActionTx, AuditRiskTx, Party, Role, TransferState
from tests.integration.ledger_commands import command, create
from tests.unit.contract_world import REQUESTING, actor_for, system


class LedgerPortSuite:
    def test_committed_transactions_land_in_a_new_block(self, ledger: Ledger) -> None:
        height = ledger.height()
        outcomes = ledger.submit([create("t-block-1"), create("t-block-2")])
        assert [type(o) for o in outcomes] == [Committed, Committed]
        assert all(o.block_number >= height for o in outcomes if isinstance(o, Committed))
        assert ledger.height() > height
        assert ledger.transfer("t-block-2") is not None

    def test_rejected_commands_write_nothing_and_do_not_stop_the_batch(
        self, ledger: Ledger
    ) -> None:
        bad = command(
            actor_for(Role.PATIENT, Party.PATIENT),
            ApplyActionTx(transfer_id="t-missing-1", action=Action.REVOKE),
            "t-missing-1",
        )
        outcomes = ledger.submit([bad, create("t-after-bad")])
        assert isinstance(outcomes[0], Rejected)
        assert outcomes[0].error.code == "UNKNOWN_TRANSFER"
        assert isinstance(outcomes[1], Committed)
        assert ledger.transfer("t-missing-1") is None

    def test_resubmitting_a_command_returns_its_original_block_without_a_new_one(
        self, ledger: Ledger
    ) -> None:
        first = create("t-replay-1")
        [original] = ledger.submit([first])
        height = ledger.height()
        [again, in_same_batch] = ledger.submit([first, first])
        assert isinstance(original, Committed)
        assert isinstance(again, Committed)
        assert isinstance(in_same_batch, Committed)
        assert again.replayed
        assert in_same_batch.replayed
        assert (again.tx_id, again.block_number) == (original.tx_id, original.block_number)
        assert ledger.height() == height
        assert len(ledger.history("t-replay-1")) == 1

    def test_history_lists_each_transition_with_its_tx_and_block(self, ledger: Ledger) -> None:
        seeded_up_to = ledger.height() - 1
        [created] = ledger.submit([create("t-history-1")])
        [audited] = ledger.submit(
            [command(system(REQUESTING), AuditRiskTx(transfer_id="t-history-1"))]
        )
        history = ledger.history("t-history-1")
        assert [h.transition.to_state for h in history] == [
            TransferState.INITIALISED,
            TransferState.RISK_ACCEPTED,
        ]
        assert isinstance(created, Committed)
        assert isinstance(audited, Committed)
        assert [(h.tx_id, h.block_number) for h in history] == [
            (created.tx_id, created.block_number),
            (audited.tx_id, audited.block_number),
        ]
        streamed = ledger.committed_after(seeded_up_to, 1_000_000, limit=10)
        assert [c.tx_id for c in streamed] == [h.tx_id for h in history]
