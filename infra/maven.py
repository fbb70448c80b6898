"""Fetching from Maven Central with the machine's Maven, with progress and clear errors."""

import hashlib
import shutil
import subprocess
from collections import deque
from collections.abc import Callable
from pathlib import Path

from infra.errors import FetchFailed, ToolMissing
from infra.progress import ProgressReporter

_DOWNLOADED = "Downloaded from"


def pom_digest(pom: Path) -> str:
    """Kept beside a fetched artefact, so editing its pom fetches it again."""
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def find_mvn(what: str) -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ToolMissing(
            f"Fetching {what} needs Maven (`mvn`) on PATH: install it "
            "(e.g. `apt-get install maven`)."
        )
    return mvn


def run_maven(command: list[str], progress: ProgressReporter, what: str) -> None:
    """Runs Maven, ticking the progress once per downloaded file; FetchFailed with the
    tail of its output when it fails."""
    tail: deque[str] = deque(maxlen=30)
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as maven:
        assert maven.stdout is not None  # guaranteed by stdout=PIPE
        for line in maven.stdout:
            tail.append(line.rstrip())
            if _DOWNLOADED in line:
                url = line.split(": ", 1)[-1].split(" ", 1)[0]
                size = line.rsplit("(", 1)[-1].split(" at ", 1)[0] if "(" in line else ""
                progress.tick(f"{url.rsplit('/', 1)[-1]} {size}".strip())
        returncode = maven.wait()
    if returncode != 0:
        output = "\n".join(tail)
        raise FetchFailed(f"Maven's fetch of {what} exited {returncode}:\n{output}")


def fetch_into_cache(
    *,
    pom: Path,
    target: Path,
    what: str,
    stage: str,
    goals: Callable[[Path], list[str]],
    collect: Callable[[Path], Path],
    progress: ProgressReporter,
    marker: str = ".curex-complete",
) -> Path:
    """``target`` holding what Maven fetched with ``pom``; Maven runs only when the cache is
    missing or came from another pom.

    Maven works in a scratch directory (so nothing is written next to the packaged pom);
    ``collect(work)`` turns its output into a finished directory, which is moved into
    place last, so a half-done fetch is never used.
    """
    complete = target / marker
    if complete.is_file() and complete.read_text().strip() == pom_digest(pom):
        return target
    mvn = find_mvn(what)
    work = target.with_name(f"{target.name}.partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copyfile(pom, work / "pom.xml")
    progress.stage(stage)
    run_maven([mvn, "-B", "-f", str(work / "pom.xml"), *goals(work)], progress, what)
    finished = collect(work)
    (finished / marker).write_text(pom_digest(pom))
    shutil.rmtree(target, ignore_errors=True)
    finished.rename(target)
    shutil.rmtree(work, ignore_errors=True)
    return target
