"""An in-memory StateStore for pure tests of the contract."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from ledger_gateway.chaincode import HistoryEntry


class MemoryStateStore:
    def __init__(self, start: datetime | None = None) -> None:
        self.values: dict[str, bytes] = {}
        self.histories: dict[str, list[HistoryEntry]] = {}
        # Now, not a fixed date: the contract refuses assessments dated after the transaction.
        self.now = start or datetime.now(UTC)
        self.tx_counter = 0
        self._writes: dict[str, bytes] = {}

    def begin(self, advance: timedelta = timedelta(seconds=1)) -> None:
        self.tx_counter += 1
        self.now += advance
        self._writes = {}

    def commit(self) -> None:
        for key, value in self._writes.items():
            self.values[key] = value
            self.histories.setdefault(key, []).append(
                HistoryEntry(self.get_tx_id(), self.now, value)
            )
        self._writes = {}

    def rollback(self) -> None:
        self._writes = {}

    def get_tx_id(self) -> str:
        return f"tx{self.tx_counter}"

    def get_tx_timestamp(self) -> datetime:
        return self.now

    def get_state(self, key: str) -> bytes | None:
        return self._writes.get(key, self.values.get(key))

    def put_state(self, key: str, value: bytes) -> None:
        self._writes[key] = value

    def get_state_by_range(self, start_key: str, end_key: str) -> Iterator[tuple[str, bytes]]:
        merged = {**self.values, **self._writes}
        return iter(sorted((k, v) for k, v in merged.items() if start_key <= k < end_key))

    def get_history_for_key(self, key: str) -> Iterator[HistoryEntry]:
        return iter(list(self.histories.get(key, [])))
