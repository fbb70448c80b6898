"""How far the block stream has been published to Kafka, kept across restarts."""

import json
import os
from pathlib import Path


class PublishCheckpoint:
    """Written atomically after Kafka acknowledged every transaction up to it."""

    def __init__(self, path: Path, starts_from: Path | None = None) -> None:
        self._path = path
        # A new checkpoint starts where this one stands: the single gateway that once
        # published every organisation's transactions had got that far.
        self._starts_from = starts_from

    def load(self) -> tuple[int, int]:
        path = self._path
        if not path.exists():
            if self._starts_from is None or not self._starts_from.exists():
                return (-1, -1)
            path = self._starts_from
        document = json.loads(path.read_text())
        return (int(document["block_number"]), int(document["position"]))

    def save(self, block_number: int, position: int) -> None:
        temporary = self._path.with_suffix(".tmp")
        with temporary.open("w") as handle:
            json.dump({"block_number": block_number, "position": position}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(self._path)
