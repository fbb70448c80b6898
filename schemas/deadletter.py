"""Rejected input: where it came from, why it was refused, and a digest of it.

Version 2 keeps no copy of the input: a malformed message may hold a patient's identifier
or free text, and the dead-letter topic is read more widely (operators, the ops console)
than the topic it came from. The source topic, partition and offset say where the original
stays for that topic's retention; the SHA-256 and size tell whether a copy is the same.
The record's key on ``curex.deadletter`` is still the original key (an id, never content).
"""

import base64
import hashlib
from typing import Literal

from pydantic import Field, model_validator

from schemas.envelope import Envelope


class DeadLetter(Envelope):
    schema_version: int = 2
    type: Literal["dead_letter"] = "dead_letter"
    source_topic: str
    source_partition: int = Field(ge=0)
    source_offset: int = Field(ge=0)
    original_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    original_size: int = Field(ge=0)
    error: str = Field(max_length=4000)

    @model_validator(mode="before")
    @classmethod
    def _upcast(cls, data: object) -> object:
        """Version 1 carried the input whole (base64): read it as its digest and size."""
        if isinstance(data, dict) and "original_value_b64" in data:
            original = base64.b64decode(data["original_value_b64"])
            data = {k: v for k, v in data.items() if not k.startswith("original_")}
            data.update(
                original_sha256=hashlib.sha256(original).hexdigest(), original_size=len(original)
            )
        return data


def dead_letter_for(
    topic: str, partition: int, offset: int, value: bytes | None, error: str
) -> DeadLetter:
    original = value or b""
    return DeadLetter(
        correlation_id=f"{topic}/{partition}/{offset}",
        source_topic=topic,
        source_partition=partition,
        source_offset=offset,
        original_sha256=hashlib.sha256(original).hexdigest(),
        original_size=len(original),
        error=error[:4000],
    )
