"""The embedded ledger behind the async ledger port.

SQLite calls block, so each runs in the adapter's own worker thread, except the submission
of a small batch and the reading of a short page of the block stream (``INLINE_MAX``),
quicker run on the loop; one connection serves one call at a time, so calls on one adapter
are serialised. Give each concurrent user its own adapter.
"""

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from ledger_gateway.embedded.ledger import EmbeddedLedger
from ledger_gateway.embedded.recent import RecentCommits
from ledger_gateway.embedded.signing import CommandSigner, Membership
from ledger_gateway.port import BlockView, CommittedTx, Outcome, SignedPage, VerifyReport
from schemas import LedgerCommand, LedgerHistoryItem, SafeguardAudit, Transfer
from schemas.network import Network

T = TypeVar("T")
# Batches of at most this many commands are submitted on the event loop itself.
INLINE_MAX = 8


class EmbeddedLedgerPort:
    def __init__(
        self,
        ledger: EmbeddedLedger,
        signer: CommandSigner | None = None,
        inline_max: int = INLINE_MAX,
    ) -> None:
        self.ledger = ledger
        # None: a read-only port (the Blockchain API); it cannot submit.
        self._signer = signer
        self._inline_max = inline_max
        self._lock = asyncio.Lock()
        # One thread of its own, not the loop's shared pool: every call on this connection
        # then allocates in the same glibc arena, instead of in whichever pool thread's.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedded-ledger")

    @classmethod
    def open(
        cls,
        path: Path,
        network: Network,
        membership: Membership,
        signer: CommandSigner | None = None,
        recent: RecentCommits | None = None,
    ) -> "EmbeddedLedgerPort":
        return cls(EmbeddedLedger(path, network, membership, recent=recent), signer)

    def close(self) -> None:
        self._worker.shutdown(wait=True)
        self.ledger.close()

    async def _run(self, call: Callable[[], T]) -> T:
        async with self._lock:
            in_context = functools.partial(contextvars.copy_context().run, call)
            return await asyncio.get_running_loop().run_in_executor(self._worker, in_context)

    async def submit(self, commands: list[LedgerCommand]) -> list[Outcome]:
        if self._signer is None:
            raise RuntimeError("this ledger port was opened without a signing key")
        batch = self._signer.sign(commands)
        if len(commands) <= self._inline_max:
            # A few commands commit in about a millisecond: handing them to a worker thread
            # and back cost more than that on a busy machine (two thread wake-ups, and the
            # GIL passed to and fro), and every command behind them waited it out too.
            async with self._lock:
                return self.ledger.submit(batch)
        return await self._run(lambda: self.ledger.submit(batch))

    async def committed_after(
        self, block_number: int, position: int = -1, limit: int = 1000
    ) -> list[CommittedTx]:
        return await self._run(lambda: self.ledger.committed_after(block_number, position, limit))

    async def signed_after(
        self, signer: str, with_unsigned: bool, after: tuple[int, int], limit: int
    ) -> SignedPage:
        # What a gateway publishes after each small batch is a page of a few rows: read on
        # the loop, like a small submission. A full first look means more: read the rest in
        # the worker thread, from where the first look ended. Reading those rows again would
        # parse them again from storage, since the first look took them from the writer's
        # handoff.
        async with self._lock:
            first = self.ledger.signed_after(signer, with_unsigned, after, self._inline_max)
        resume = first.frontier
        if len(first.txs) < self._inline_max or resume is None or limit <= len(first.txs):
            return first
        rest = await self._run(
            lambda: self.ledger.signed_after(signer, with_unsigned, resume, limit - len(first.txs))
        )
        return SignedPage(first.txs + rest.txs, rest.frontier or resume)

    async def transfer(self, transfer_id: str) -> Transfer | None:
        return await self._run(lambda: self.ledger.transfer(transfer_id))

    async def history(self, transfer_id: str) -> list[LedgerHistoryItem]:
        return await self._run(lambda: self.ledger.history(transfer_id))

    async def safeguard_audit(self, org_id: str, at: datetime) -> SafeguardAudit:
        return await self._run(lambda: self.ledger.safeguard_audit(org_id, at))

    async def height(self) -> int:
        return await self._run(self.ledger.height)

    async def block(self, number: int) -> BlockView | None:
        return await self._run(lambda: self.ledger.block(number))

    async def verify(self) -> VerifyReport:
        return await self._run(self.ledger.verify)
