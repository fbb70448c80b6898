"""The bench's warm-up reads the CPU of the broker's JIT compiler threads, and only theirs."""

import os
from pathlib import Path

from curex.bench.warm_up import QUIET_SHARE, WarmUp, compiler_cpu_s, share_of_a_core

HZ = os.sysconf("SC_CLK_TCK")


def _thread(proc: Path, pid: int, tid: int, name: str, utime: int, stime: int) -> None:
    task = proc / str(pid) / "task" / str(tid)
    task.mkdir(parents=True)
    # /proc/<pid>/task/<tid>/stat: fields 14 and 15 (counting from 1) are utime and stime.
    after_name = ["S", *["0"] * 10, str(utime), str(stime), *["0"] * 30]
    (task / "stat").write_text(f"{tid} ({name}) {' '.join(after_name)}\n")


def test_only_the_compiler_threads_are_counted(tmp_path: Path) -> None:
    _thread(tmp_path, 7, 8, "C2 CompilerThre", utime=3 * HZ, stime=HZ)
    _thread(tmp_path, 7, 9, "C1 CompilerThre", utime=HZ, stime=0)
    _thread(tmp_path, 7, 10, "data-plane-kafk", utime=50 * HZ, stime=9 * HZ)
    _thread(tmp_path, 7, 11, "java", utime=20 * HZ, stime=HZ)
    assert compiler_cpu_s(7, tmp_path) == 5.0


def test_a_process_without_compiler_threads_or_gone_reads_as_unknown(tmp_path: Path) -> None:
    _thread(tmp_path, 7, 10, "python", utime=HZ, stime=0)
    assert compiler_cpu_s(7, tmp_path) is None
    assert compiler_cpu_s(99, tmp_path) is None


def test_a_thread_name_with_spaces_and_parentheses_is_read_whole(tmp_path: Path) -> None:
    _thread(tmp_path, 7, 8, "C2 CompilerThre", utime=HZ, stime=0)
    _thread(tmp_path, 7, 9, "a) (b", utime=40 * HZ, stime=0)
    assert compiler_cpu_s(7, tmp_path) == 1.0


def test_the_share_of_a_core_is_never_negative_nor_made_up() -> None:
    assert share_of_a_core(2.0, 3.0, 4.0) == 0.25
    # A compiler thread that ended between the readings takes its ticks with it.
    assert share_of_a_core(3.0, 2.0, 4.0) == 0.0
    assert share_of_a_core(None, 3.0, 4.0) is None
    assert share_of_a_core(2.0, 3.0, 0.0) is None


def test_the_broker_is_warm_at_or_under_the_quiet_share() -> None:
    assert WarmUp(20.0, QUIET_SHARE).quiet is True
    assert WarmUp(20.0, QUIET_SHARE + 0.01).quiet is False
    assert WarmUp(20.0, None).quiet is None
