"""The bench's memory and CPU figures cover each service's whole process family."""

import os
import subprocess
import sys
import time

import psutil

from curex.bench.rss import families, resident_bytes


def _children_within(pid: int, within_s: float) -> list[psutil.Process]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        found = psutil.Process(pid).children()
        if found:
            return found
        time.sleep(0.01)  # polling the process table, under a deadline
    raise AssertionError("the child never started its own child")


def test_a_family_holds_the_process_and_its_descendants() -> None:
    # A child that starts a grandchild: both belong to this process's family.
    child = subprocess.Popen(
        [sys.executable, "-c", "import subprocess,sys; subprocess.run(['sleep', '30'])"]
    )
    try:
        grandchildren = _children_within(child.pid, within_s=10)
        [members] = families({"me": os.getpid()}).values()
        pids = {member.pid for member in members}
        assert {os.getpid(), child.pid, grandchildren[0].pid} <= pids
        assert resident_bytes(members) > resident_bytes(members[:1])
    finally:
        for process in psutil.Process(child.pid).children(recursive=True):
            process.kill()
        child.kill()
        child.wait()


def test_a_process_that_is_gone_has_an_empty_family() -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert families({"gone": gone.pid}) == {"gone": []}
