"""How busy the broker's JIT compilers are: the bench's warm-up lasts until they are quiet.

The JVM compiles Kafka's hot paths in the first tens of seconds under load. On a broker
just started, its compiler threads took a third of a core through the fixed-rate phases
that followed a 5 s warm-up, and those phases missed their latency targets; measured after
a longer warm-up, they met them.
"""

import os
from dataclasses import dataclass
from pathlib import Path

# HotSpot's compiler threads, by the name Linux gives a thread (its first 15 characters).
COMPILER_THREAD_PREFIXES = ("C1 CompilerThre", "C2 CompilerThre")
# The broker counts as warm when its compilers use at most this share of one core.
QUIET_SHARE = 0.10
WINDOW_S = 5.0  # each further warm-up window after the minimum


@dataclass(frozen=True, slots=True)
class WarmUp:
    seconds: float  # wall-clock time of the whole warm-up
    compiler_share: float | None  # of one core, over its last window; None: not readable

    @property
    def quiet(self) -> bool | None:
        return None if self.compiler_share is None else self.compiler_share <= QUIET_SHARE


def compiler_cpu_s(pid: int, proc: Path = Path("/proc")) -> float | None:
    """CPU seconds so far of the JIT compiler threads of the JVM ``pid``; None when its
    threads cannot be read (not Linux, gone, or not a HotSpot JVM)."""
    ticks = 0
    found = False
    try:
        tasks = list((proc / str(pid) / "task").iterdir())
    except OSError:
        return None
    for task in tasks:
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue  # a thread that ended meanwhile
        name = stat[stat.find("(") + 1 : stat.rfind(")")]
        if name.startswith(COMPILER_THREAD_PREFIXES):
            fields = stat[stat.rfind(")") + 2 :].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
            found = True
    if not found:
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def share_of_a_core(
    cpu_before: float | None, cpu_after: float | None, wall_s: float
) -> float | None:
    if cpu_before is None or cpu_after is None or wall_s <= 0:
        return None
    return max(0.0, cpu_after - cpu_before) / wall_s
