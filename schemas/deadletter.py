"""Rejected input kept whole, with where it came from and why it was refused."""

import base64
from typing import Literal

from pydantic import Field

from schemas.envelope import Envelope


class DeadLetter(Envelope):
    type: Literal["dead_letter"] = "dead_letter"
    source_topic: str
    source_partition: int = Field(ge=0)
    source_offset: int = Field(ge=0)
    original_key_b64: str | None
    original_value_b64: str
    error: str = Field(max_length=4000)


def dead_letter_for(
    topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None, error: str
) -> DeadLetter:
    """Wrap refused input whole: base64 keeps any bytes, valid UTF-8 or not."""
    return DeadLetter(
        correlation_id=f"{topic}/{partition}/{offset}",
        source_topic=topic,
        source_partition=partition,
        source_offset=offset,
        original_key_b64=None if key is None else base64.b64encode(key).decode(),
        original_value_b64=base64.b64encode(value or b"").decode(),
        error=error[:4000],
    )
