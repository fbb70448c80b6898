"""The transactions a gateway's own writer just committed, for its block publisher.

The writer knows everything the publisher would otherwise read back and parse from the
stored body. It leaves each committed transaction here; the publisher takes it by tx id,
and reads the body only for what is not here (another writer's, or from before a restart).
Bounded: what the publisher does not take in time is dropped, never lost (it is stored).
"""

import threading
from collections import OrderedDict

from ledger_gateway.port import CommittedTx


class RecentCommits:
    def __init__(self, capacity: int = 20_000) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, CommittedTx] = OrderedDict()
        # The writer and the publisher run their ledger calls in different threads.
        self._lock = threading.Lock()

    def remember(self, committed: list[CommittedTx]) -> None:
        with self._lock:
            for tx in committed:
                self._entries[tx.tx_id] = tx
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def take(self, tx_id: str) -> CommittedTx | None:
        with self._lock:
            return self._entries.pop(tx_id, None)
