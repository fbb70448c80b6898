"""A fixed number of timed attempts at a fixed concurrency, bounded in time as well."""

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from curex.bench.latency import Percentiles, percentiles

# One attempt: None when it did what was expected, else what went wrong ("HTTP 500", ...).
Attempt = Callable[[int], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class LoadResult:
    sent: int
    elapsed_s: float  # from the first attempt started to the last one finished
    latency: Percentiles | None  # of the attempts that succeeded
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    @property
    def succeeded(self) -> int:
        return self.sent - self.failed

    @property
    def per_s(self) -> float | None:
        """Successful attempts per second."""
        return self.succeeded / self.elapsed_s if self.elapsed_s > 0 else None


async def drive(attempt: Attempt, count: int, concurrency: int, within: float) -> LoadResult:
    """Run ``attempt(0..count-1)`` with ``concurrency`` in flight; no new one after ``within`` s.

    Each attempt must bound its own duration (a request timeout), so the whole run ends
    at most one attempt's timeout after ``within``.
    """
    indices = iter(range(count))  # shared by the workers: each index is taken once
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    sent = 0
    started = time.perf_counter()
    stop_at = started + within

    async def worker() -> None:
        nonlocal sent
        for index in indices:
            began = time.perf_counter()
            if began > stop_at:
                return
            sent += 1
            failure = await attempt(index)
            if failure is None:
                latencies.append(time.perf_counter() - began)
            else:
                failures[failure] += 1

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return LoadResult(sent, time.perf_counter() - started, percentiles(latencies), dict(failures))
