"""Follow ``curex.ledger.blocks`` from now on and wait for what a transfer reaches.

Clients of the publishing API (the demo, tests, benchmarks) use it to learn when the
ledger has committed the effect of a command: they never sleep, they wait on a deadline.
"""

import asyncio
import contextlib
import itertools
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Protocol, Self

from curex.errors import WaitTimedOut
from schemas import (
    LEDGER_REPORT,
    CommandRejected,
    LedgerReport,
    TransactionCommitted,
    TransferState,
)
from schemas.topics import LEDGER_BLOCKS
from service_runtime.follower import Record, TopicFollower
from service_runtime.kafka_access import KafkaAccess

Predicate = Callable[[list[LedgerReport]], bool]


class Batches(Protocol):
    """Where the watcher's records come from: ``TopicFollower`` on the blocks topic."""

    async def __aenter__(self) -> Any: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def batches(self, max_records: int = ...) -> AsyncIterator[list[Record]]: ...


class BlockWatcher:
    def __init__(self, access: KafkaAccess, follower: Batches | None = None) -> None:
        self._follower = follower or TopicFollower(access, LEDGER_BLOCKS)
        self.reports: dict[str, list[LedgerReport]] = defaultdict(list)
        self.received_at: dict[str, list[float]] = defaultdict(list)
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        # One set per waiting ``wait_until``: the transfers that got reports since it last
        # looked, so a wait checks those only (a bench waits on thousands of transfers).
        self._dirty: dict[int, set[str]] = {}  # by the waiter's token
        self._tokens = itertools.count()

    async def __aenter__(self) -> Self:
        await self._follower.__aenter__()
        self._task = asyncio.create_task(self._follow())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._follower.__aexit__(exc_type, exc, traceback)

    async def _follow(self) -> None:
        async for records in self._follower.batches():
            now = time.perf_counter()
            arrived = set()
            for record in records:
                report = LEDGER_REPORT.validate_json(record.value or b"")
                self.reports[report.correlation_id].append(report)
                self.received_at[report.correlation_id].append(now)
                arrived.add(report.correlation_id)
            for dirty in self._dirty.values():
                dirty |= arrived
            async with self._changed:
                self._changed.notify_all()

    async def wait_until(self, transfer_ids: list[str], done: Predicate, within: float) -> None:
        """Wait until ``done`` holds for the reports of every transfer, or time out."""
        deadline = time.monotonic() + within
        pending = set(transfer_ids)
        dirty = set(pending)  # everything is looked at once
        token = next(self._tokens)
        self._dirty[token] = dirty
        try:
            while True:
                looked_at = dirty & pending
                dirty.clear()
                pending -= {t for t in looked_at if done(self.reports.get(t, []))}
                if not pending:
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WaitTimedOut(
                        f"{len(pending)} transfer(s) did not get there: {sorted(pending)[:5]}"
                    )
                async with self._changed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.5))
        finally:
            del self._dirty[token]

    async def next_change(self, within: float) -> None:
        """Return when new reports arrive, or after ``within`` seconds without any."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=within)

    def committed(self, transfer_id: str) -> list[TransactionCommitted]:
        return [r for r in self.reports.get(transfer_id, []) if isinstance(r, TransactionCommitted)]

    def rejections(self, transfer_id: str) -> list[CommandRejected]:
        return [r for r in self.reports.get(transfer_id, []) if isinstance(r, CommandRejected)]

    def state(self, transfer_id: str) -> TransferState | None:
        return latest_state(self.committed(transfer_id))


def latest_state(committed: list[TransactionCommitted]) -> TransferState | None:
    """The state of a transfer's latest transaction: the one in the highest block, not the
    last to arrive, since a gateway started again after a kill publishes its last events
    again, after newer ones that the other gateway published."""
    latest = None
    for report in committed:
        transfer = report.result.transfer
        if transfer is not None and (latest is None or report.block_number >= latest[0]):
            latest = (report.block_number, transfer.state)
    return None if latest is None else latest[1]


def reached(state: TransferState) -> Predicate:
    def done(reports: list[LedgerReport]) -> bool:
        return any(
            isinstance(r, TransactionCommitted)
            and r.result.transfer is not None
            and r.result.transfer.state is state
            for r in reports
        )

    return done
