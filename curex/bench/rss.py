"""Peak resident memory of each service (with its children), sampled in the background."""

import asyncio
import contextlib
from collections.abc import Mapping
from types import TracebackType
from typing import Self

import psutil

MIB = 1024 * 1024


def _family(pid: int) -> list[psutil.Process]:
    """The process and all its live descendants; none once it is gone."""
    try:
        process = psutil.Process(pid)
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return []


def resident_bytes(pid: int) -> int:
    """RSS of the process and all its descendants; 0 once it is gone."""
    total = 0
    for member in _family(pid):
        with contextlib.suppress(psutil.Error):
            total += member.memory_info().rss
    return total


class RssSampler:
    """Samples every ``interval_s`` until the context exits; ``peaks`` holds bytes."""

    def __init__(self, pids: Mapping[str, int], interval_s: float = 0.1) -> None:
        self.pids = dict(pids)
        self.peaks: dict[str, int] = dict.fromkeys(pids, 0)
        self.samples = 0
        self._interval_s = interval_s
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _sample(self) -> None:
        for name, pid in self.pids.items():
            self.peaks[name] = max(self.peaks[name], resident_bytes(pid))
        self.samples += 1

    async def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self._interval_s)
        self._sample()

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process and its live descendants so far; 0 once gone."""
    total = 0.0
    for member in _family(pid):
        with contextlib.suppress(psutil.Error):
            times = member.cpu_times()
            total += times.user + times.system
    return total


def cpu_snapshot(pids: Mapping[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}
