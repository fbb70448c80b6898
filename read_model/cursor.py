"""The list's keyset cursor: the last item's (updated time, transfer id), opaque to clients.

Newest first by (updated_at, transfer_id): the next page holds what sorts strictly after
the cursor, so a transfer created while a client pages never shows up twice or pushes
another one out of the pages still to come.
"""

import base64
import json
from dataclasses import dataclass
from datetime import datetime


class BadCursor(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Cursor:
    updated_at: datetime
    transfer_id: str

    def encode(self) -> str:
        raw = json.dumps([self.updated_at.isoformat(), self.transfer_id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            updated_at, transfer_id = json.loads(raw)
            at = datetime.fromisoformat(updated_at)
        except (ValueError, TypeError) as error:
            raise BadCursor("the cursor is not one this server gave out") from error
        if at.tzinfo is None or not isinstance(transfer_id, str):
            raise BadCursor("the cursor is not one this server gave out")
        return cls(at, transfer_id)
