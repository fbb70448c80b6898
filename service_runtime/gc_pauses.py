"""How long the cyclic garbage collector stops the process, by generation: a full
collection walks every live object, and in a process holding ten thousand sockets that
is a pause every event on its loop waits out."""

import asyncio
import gc
import time
from typing import Any

from prometheus_client import Histogram

GC_PAUSE = Histogram(
    "curex_gc_pause_seconds",
    "Time the cyclic garbage collector held the process, by generation",
    ["generation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
_started: list[float] = []
# Collections of the middle generation before a full one: "never".
_NEVER = 2**31 - 1


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started.append(time.perf_counter())
    elif _started:
        GC_PAUSE.labels(str(info["generation"])).observe(time.perf_counter() - _started.pop())


def watch_gc_pauses() -> None:
    """Once per process: every collection from now on is timed."""
    if _on_gc not in gc.callbacks:
        gc.callbacks.append(_on_gc)


async def full_collections_on_schedule(every_s: float) -> None:
    """Full collections each ``every_s`` instead of whenever the live objects grew by a
    quarter; the young generations are still collected as usual (sub-millisecond pauses).

    Left to itself, a process whose live objects grow quickly (ten thousand sockets opening)
    runs a full collection at each quarter of growth: a dozen pauses of up to seconds while
    they connect, each stalling every socket."""
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, _NEVER)
    try:
        while True:
            await asyncio.sleep(every_s)  # a timer, not a wait for an event
            gc.collect()
    finally:
        gc.set_threshold(young, middle, full)
