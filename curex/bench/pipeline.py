"""Offer emergency transfers to the running pipeline and time what the ledger commits.

Every time is ``time.perf_counter()``: taken just before ``publisher.publish`` for a
command, and by ``BlockWatcher`` when a block event arrives.
"""

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from dataclasses import dataclass

from curex.bench.errors import BenchError
from curex.bench.latency import Percentiles, percentiles
from curex.bench.workload import BenchWorld
from curex.block_watch import BlockWatcher
from curex.errors import WaitTimedOut
from producers.publisher import CommandPublisher
from schemas import (
    FINAL_STATES,
    CommandRejected,
    LedgerReport,
    TransactionCommitted,
    TransferState,
)

# Yield to the block watcher this often while publishing flat out, so arrival times
# are taken when the events arrive rather than after the whole burst is queued.
_YIELD_EVERY = 50
S = TransferState
_SETTLED_STATES = FINAL_STATES | {S.DATA_AVAILABLE}


@dataclass(frozen=True, slots=True)
class Offered:
    published_at: dict[str, float]  # transfer id -> just before publish
    first: float
    last: float
    max_schedule_lag_s: float

    @property
    def rate(self) -> float:
        span = self.last - self.first
        return (len(self.published_at) - 1) / span if span > 0 else float(len(self.published_at))


@dataclass(frozen=True, slots=True)
class PhaseResult:
    offered: Offered
    to_initialised: Percentiles | None
    to_available: Percentiles | None
    transitions: int
    last_available_at: float | None
    incomplete: int
    rejected: int
    # Ledger commit → visible in the read model, p99 (a bucket edge); None if not measured.
    read_model_lag_p99_s: float | None = None

    @property
    def elapsed_s(self) -> float | None:
        """From the first publish to the last DATA_AVAILABLE seen."""
        if self.last_available_at is None:
            return None
        return self.last_available_at - self.offered.first

    @property
    def transitions_per_s(self) -> float | None:
        elapsed = self.elapsed_s
        return self.transitions / elapsed if elapsed else None


async def _acknowledged(acks: list[Awaitable[object]], within: float) -> None:
    try:
        await asyncio.wait_for(asyncio.gather(*acks), timeout=within)
    except TimeoutError as exc:
        raise BenchError(f"Kafka did not acknowledge the commands within {within:g}s") from exc


async def offer_at_rate(
    publisher: CommandPublisher, world: BenchWorld, rate: float, duration: float, within: float
) -> Offered:
    """Publish ``rate * duration`` creates on an absolute schedule: no drift, no catch-up sleep."""
    count = max(1, round(rate * duration))
    give_up_at = time.perf_counter() + duration + within
    published: dict[str, float] = {}
    acks: list[Awaitable[object]] = []
    max_lag = 0.0
    start = time.perf_counter()
    for index in range(count):
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)  # a pacing timer, not a wait for an event
        command = world.emergency_transfer("rate", index)
        now = time.perf_counter()
        if now > give_up_at:
            break
        max_lag = max(max_lag, now - due)
        published[command.transfer_id] = now
        acks.append(await publisher.publish(command))
    await _acknowledged(acks, within)
    return Offered(published, start, max(published.values()), max_lag)


async def offer_flat_out(
    publisher: CommandPublisher, world: BenchWorld, count: int, within: float
) -> Offered:
    commands = [world.emergency_transfer("sat", index) for index in range(count)]
    published: dict[str, float] = {}
    acks: list[Awaitable[object]] = []
    for index, command in enumerate(commands):
        published[command.transfer_id] = time.perf_counter()
        acks.append(await publisher.publish(command))
        if index % _YIELD_EVERY == _YIELD_EVERY - 1:
            await asyncio.sleep(0)
    await _acknowledged(acks, within)
    values = published.values()
    return Offered(published, min(values), max(values), 0.0)


def _settled(reports: list[LedgerReport]) -> bool:
    """DATA_AVAILABLE, or a path that will never get there."""
    for report in reports:
        if isinstance(report, CommandRejected):
            return True
        transfer = report.result.transfer
        if transfer is not None and (
            transfer.state is S.DATA_AVAILABLE or transfer.state in FINAL_STATES
        ):
            return True
    return False


def _first_seen(watcher: BlockWatcher, transfer_id: str, state: TransferState) -> float | None:
    reports = watcher.reports.get(transfer_id, [])
    arrivals = watcher.received_at.get(transfer_id, [])
    for report, arrived in zip(reports, arrivals, strict=True):
        if (
            isinstance(report, TransactionCommitted)
            and report.result.transfer is not None
            and report.result.transfer.state is state
        ):
            return arrived
    return None


async def settle(watcher: BlockWatcher, offered: Offered, within: float) -> PhaseResult:
    """Wait (up to ``within``) for every offered transfer, then measure what was committed."""
    ids = list(offered.published_at)
    with contextlib.suppress(WaitTimedOut):
        await watcher.wait_until(ids, _settled, within)
    to_initialised: list[float] = []
    to_available: list[float] = []
    available_at: list[float] = []
    transitions = incomplete = rejected = 0
    for transfer_id, published in offered.published_at.items():
        initialised = _first_seen(watcher, transfer_id, S.INITIALISED)
        available = _first_seen(watcher, transfer_id, S.DATA_AVAILABLE)
        if initialised is not None:
            to_initialised.append(initialised - published)
        if available is None:
            incomplete += 1
        else:
            to_available.append(available - published)
            available_at.append(available)
        rejected += bool(watcher.rejections(transfer_id))
        transitions += len(
            {r.tx_id for r in watcher.committed(transfer_id) if r.result.transfer is not None}
        )
    return PhaseResult(
        offered=offered,
        to_initialised=percentiles(to_initialised),
        to_available=percentiles(to_available),
        transitions=transitions,
        last_available_at=max(available_at) if available_at else None,
        incomplete=incomplete,
        rejected=rejected,
    )
