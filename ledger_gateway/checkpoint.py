"""How far the block stream has been published to Kafka, kept across restarts."""

import json
import os
from pathlib import Path


class PublishCheckpoint:
    """Written atomically after Kafka acknowledged every transaction up to it."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def load(self) -> tuple[int, int]:
        if not self._path.exists():
            return (-1, -1)
        document = json.loads(self._path.read_text())
        return (int(document["block_number"]), int(document["position"]))

    def save(self, block_number: int, position: int) -> None:
        temporary = self._path.with_suffix(".tmp")
        with temporary.open("w") as handle:
            json.dump({"block_number": block_number, "position": position}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(self._path)
