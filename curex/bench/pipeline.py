"""Offer emergency transfers to the running pipeline and time what the ledger commits.

Every time is ``time.perf_counter()``: taken just before ``publisher.publish`` for a
command, and by ``BlockWatcher`` when a block event arrives.
"""

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field

from curex.bench.errors import BenchError
from curex.bench.paths import EMERGENCY_PATH, PathLatencies, measure_paths
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
    paths: PathLatencies
    transitions: int  # distinct committed transactions of the phase's transfers
    rejected: int
    # Ledger commit → visible in the read model, p99 (a bucket edge); None if not measured.
    read_model_lag_p99_s: float | None = None
    # CPU seconds each process of the stack spent during the phase (saturation only).
    cpu_s: dict[str, float] = field(default_factory=dict)

    @property
    def incomplete(self) -> int:
        return self.paths.offered - self.paths.completed

    @property
    def elapsed_s(self) -> float | None:
        """From the first publish to the last transfer's last state."""
        last = self.paths.last_commit
        return None if last is None else last - self.offered.first

    @property
    def transitions_per_s(self) -> float | None:
        return self.paths.transitions_per_s


async def _acknowledged(acks: list[Awaitable[object]], within: float) -> None:
    try:
        await asyncio.wait_for(asyncio.gather(*acks), timeout=within)
    except TimeoutError as exc:
        raise BenchError(f"Kafka did not acknowledge the commands within {within:g}s") from exc


async def offer_at_rate(
    publisher: CommandPublisher,
    world: BenchWorld,
    phase: str,
    rate: float,
    duration: float,
    within: float,
) -> Offered:
    """Publish ``rate * duration`` creates on an absolute schedule: no drift, no catch-up sleep.

    ``phase`` names this phase's transfers: no two phases of a run share a transfer id, so a
    block event is never matched to another phase's publish.
    """
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
        command = world.emergency_transfer(phase, index)
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


def _commit_times(watcher: BlockWatcher, transfer_id: str) -> dict[TransferState, float]:
    """When each state's block event first arrived."""
    times: dict[TransferState, float] = {}
    reports = watcher.reports.get(transfer_id, [])
    arrivals = watcher.received_at.get(transfer_id, [])
    for report, arrived in zip(reports, arrivals, strict=True):
        if isinstance(report, TransactionCommitted) and report.result.transfer is not None:
            times.setdefault(report.result.transfer.state, arrived)
    return times


async def settle(watcher: BlockWatcher, offered: Offered, within: float) -> PhaseResult:
    """Wait (up to ``within``) for every offered transfer, then measure what was committed."""
    ids = list(offered.published_at)
    with contextlib.suppress(WaitTimedOut):
        await watcher.wait_until(ids, _settled, within)
    commits = {transfer_id: _commit_times(watcher, transfer_id) for transfer_id in ids}
    transitions = sum(
        len({r.tx_id for r in watcher.committed(t) if r.result.transfer is not None}) for t in ids
    )
    return PhaseResult(
        offered=offered,
        paths=measure_paths(offered.published_at, commits, EMERGENCY_PATH),
        transitions=transitions,
        rejected=sum(bool(watcher.rejections(t)) for t in ids),
    )
