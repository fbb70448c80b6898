"""The frames the notifier sends (pure): one per committed change, plus the protocol's
acknowledgements. Serialised once per change and language, then shared by every socket."""

from typing import Any

import orjson

from notifier.inbox import InboxEntry
from notifier.messages import message_for
from schemas import Language


def update_frame(entry: InboxEntry, language: Language) -> dict[str, Any]:
    return {
        "type": "transfer.updated",
        "transfer_id": entry.transfer_id,
        "state": entry.to_state.value,
        "previous_state": entry.from_state.value if entry.from_state else None,
        "tx_id": entry.tx_id,
        "block_number": entry.block_number,
        "occurred_at": entry.at.isoformat(),
        "message": message_for(entry.to_state, language),
    }


def encode(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode()


class FrameCache:
    """One change's frame text per language, built on first use."""

    __slots__ = ("_entry", "_texts")

    def __init__(self, entry: InboxEntry) -> None:
        self._entry = entry
        self._texts: dict[Language, str] = {}

    def text(self, language: Language) -> str:
        text = self._texts.get(language)
        if text is None:
            text = self._texts[language] = encode(update_frame(self._entry, language))
        return text
