"""Folding block reports into a transfer's document (pure).

Idempotent and order-insensitive: a transaction already in the history is skipped, and
the current state moves only to a later block.
"""

from collections.abc import Iterable

from read_model.documents import Rejection, TransferView, history_entry, transfer_view
from schemas import CommandRejected, LedgerReport, TransactionCommitted


def fold(view: TransferView | None, reports: Iterable[LedgerReport]) -> TransferView | None:
    """The transfer's document after ``reports``; None while nothing is known."""
    for report in reports:
        if isinstance(report, TransactionCommitted) and report.result.transfer is not None:
            history = () if view is None else view.history
            if any(entry.tx_id == report.tx_id for entry in history):
                continue  # a redelivered block event
            history = tuple(
                sorted(
                    (*history, history_entry(report)),
                    key=lambda entry: (entry.block_number, entry.tx_id),
                )
            )
            if view is None or report.block_number > view.last_block:
                rejection = None if view is None else view.last_rejection
                view = transfer_view(report).model_copy(update={"last_rejection": rejection})
            view = view.model_copy(update={"history": history})
        elif isinstance(report, CommandRejected) and view is not None:
            rejection = Rejection(
                code=report.code,
                reason=report.reason,
                current_state=report.current_state,
                command_event_id=report.command_event_id,
                at=report.occurred_at,
            )
            view = view.model_copy(update={"last_rejection": rejection})
    return view
