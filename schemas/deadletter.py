"""Rejected input kept whole, with where it came from and why it was refused."""

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
