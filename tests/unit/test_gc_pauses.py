"""The collector's pauses are measured, and full collections can be put on a timer while
the young generations go on as usual."""

import asyncio
import contextlib
import gc

from prometheus_client import REGISTRY

from service_runtime.gc_pauses import full_collections_on_schedule, watch_gc_pauses


def _pauses(generation: str) -> float:
    value = REGISTRY.get_sample_value("curex_gc_pause_seconds_count", {"generation": generation})
    return value or 0.0


def test_each_collection_is_timed_by_generation() -> None:
    watch_gc_pauses()
    watch_gc_pauses()  # once per process, however often asked
    before = _pauses("2")

    gc.collect()

    assert _pauses("2") == before + 1


async def test_full_collections_wait_for_the_timer_and_the_thresholds_come_back() -> None:
    watch_gc_pauses()
    thresholds = gc.get_threshold()
    before = _pauses("2")
    schedule = asyncio.create_task(full_collections_on_schedule(every_s=0.05))
    await asyncio.sleep(0)  # let it set the thresholds
    assert gc.get_threshold()[:2] == thresholds[:2]
    assert gc.get_threshold()[2] > 10**6  # no full collection on allocation counts
    deadline = asyncio.get_running_loop().time() + 5
    while _pauses("2") < before + 2:
        assert asyncio.get_running_loop().time() < deadline, "no timed full collection"
        await asyncio.sleep(0.01)  # the interval of a deadline-bounded poll
    schedule.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await schedule
    assert gc.get_threshold() == thresholds
