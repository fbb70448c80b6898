"""The frames the notifier sends: one per committed change, and the replay of missed ones."""

from typing import Any

from notifier.messages import message_for
from read_model.documents import HistoryEntry
from schemas import Language

Frame = dict[str, Any]


def update_frame(entry: HistoryEntry, transfer_id: str, language: Language) -> Frame:
    return {
        "type": "transfer.updated",
        "transfer_id": transfer_id,
        "state": entry.to_state.value,
        "previous_state": entry.from_state.value if entry.from_state else None,
        "tx_id": entry.tx_id,
        "block_number": entry.block_number,
        "occurred_at": entry.at.isoformat(),
        "message": message_for(entry.to_state, language),
    }


def replay_frames(
    transfers: list[tuple[str, tuple[HistoryEntry, ...]]], after_tx: str | None, language: Language
) -> list[Frame]:
    """Every change after the one with ``after_tx`` (all of them when it is unknown)."""
    entries = [(tid, e) for tid, history in transfers for e in history]
    after_block = next((e.block_number for _, e in entries if e.tx_id == after_tx), -1)
    missed = sorted(
        ((tid, e) for tid, e in entries if e.block_number > after_block),
        key=lambda pair: (pair[1].block_number, pair[1].tx_id),
    )
    return [update_frame(e, tid, language) for tid, e in missed]
