"""Peak resident memory of each service (with its children), sampled in the background."""

import asyncio
import contextlib
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Self

import psutil

MIB = 1024 * 1024


def families(pids: Mapping[str, int]) -> dict[str, list[psutil.Process]]:
    """Each named process with all its live descendants, from one pass over the process
    table (``Process.children`` reads the whole table once per call)."""
    children: dict[int, list[psutil.Process]] = {}
    for process in psutil.process_iter(["ppid"]):
        children.setdefault(process.info["ppid"], []).append(process)
    found: dict[str, list[psutil.Process]] = {}
    for name, pid in pids.items():
        try:
            members = [psutil.Process(pid)]
        except psutil.Error:
            found[name] = []
            continue
        index = 0
        while index < len(members):
            members.extend(children.get(members[index].pid, []))
            index += 1
        found[name] = members
    return found


def resident_bytes(members: list[psutil.Process]) -> int:
    """RSS of the given processes; those gone count 0."""
    total = 0
    for member in members:
        with contextlib.suppress(psutil.Error):
            total += member.memory_info().rss
    return total


class RssSampler:
    """Samples every ``interval_s`` until the context exits; ``peaks`` holds bytes. Who
    belongs to each service is looked up again every ``families_every_s``: a full pass over
    the process table every sample made the bench one of the busiest processes it measured."""

    def __init__(
        self, pids: Mapping[str, int], interval_s: float = 0.1, families_every_s: float = 5.0
    ) -> None:
        self.pids = dict(pids)
        self.peaks: dict[str, int] = dict.fromkeys(pids, 0)
        self.samples = 0
        self._interval_s = interval_s
        self._families_every_s = families_every_s
        self._families: dict[str, list[psutil.Process]] = {}
        self._families_at = -float("inf")
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        now = time.monotonic()
        if now - self._families_at >= self._families_every_s:
            # About 10 ms over the process table: off the loop, which times block events.
            self._families = await asyncio.to_thread(families, self.pids)
            self._families_at = now
        for name, members in self._families.items():
            self.peaks[name] = max(self.peaks[name], resident_bytes(members))
        self.samples += 1

    async def _run(self) -> None:
        while not self._stop.is_set():
            await self._sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self._interval_s)
        await self._sample()

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


def cpu_seconds(members: list[psutil.Process]) -> float:
    """User + system CPU of the given processes so far; those gone count 0."""
    total = 0.0
    for member in members:
        with contextlib.suppress(psutil.Error):
            times = member.cpu_times()
            total += times.user + times.system
    return total


def cpu_snapshot(pids: Mapping[str, int]) -> dict[str, float]:
    """CPU so far of each named process with its live descendants."""
    return {name: cpu_seconds(members) for name, members in families(pids).items()}
