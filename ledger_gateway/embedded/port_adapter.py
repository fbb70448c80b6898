"""The embedded ledger behind the async ledger port.

SQLite calls block, so each runs in a worker thread; one connection serves one call at a
time, so calls on one adapter are serialised. Give each concurrent user its own adapter.
"""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ledger_gateway.embedded.ledger import EmbeddedLedger
from ledger_gateway.port import BlockView, CommittedTx, Outcome, VerifyReport
from schemas import LedgerCommand, LedgerHistoryItem, Transfer

T = TypeVar("T")


class EmbeddedLedgerPort:
    def __init__(self, ledger: EmbeddedLedger) -> None:
        self.ledger = ledger
        self._lock = asyncio.Lock()

    @classmethod
    def open(cls, path: Path) -> "EmbeddedLedgerPort":
        return cls(EmbeddedLedger(path))

    def close(self) -> None:
        self.ledger.close()

    async def _run(self, call: Callable[[], T]) -> T:
        async with self._lock:
            return await asyncio.to_thread(call)

    async def submit(self, commands: list[LedgerCommand]) -> list[Outcome]:
        return await self._run(lambda: self.ledger.submit(commands))

    async def committed_after(
        self, block_number: int, position: int = -1, limit: int = 1000
    ) -> list[CommittedTx]:
        return await self._run(lambda: self.ledger.committed_after(block_number, position, limit))

    async def transfer(self, transfer_id: str) -> Transfer | None:
        return await self._run(lambda: self.ledger.transfer(transfer_id))

    async def history(self, transfer_id: str) -> list[LedgerHistoryItem]:
        return await self._run(lambda: self.ledger.history(transfer_id))

    async def height(self) -> int:
        return await self._run(self.ledger.height)

    async def block(self, number: int) -> BlockView | None:
        return await self._run(lambda: self.ledger.block(number))

    async def verify(self) -> VerifyReport:
        return await self._run(self.ledger.verify)
