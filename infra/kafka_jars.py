"""Fetching the Kafka broker's runtime classpath from Maven Central into the user cache."""

import hashlib
import shutil
import subprocess
from collections import deque
from pathlib import Path

from infra.errors import FetchFailed, ToolMissing
from infra.progress import ProgressReporter
from infra.settings import InfraSettings

KAFKA_VERSION = "4.1.1"
KAFKA_RESOURCES = Path(__file__).with_name("kafka")
_POM = KAFKA_RESOURCES / "pom.xml"
# Holds the digest of the pom the jars came from, so editing the pom refetches.
_COMPLETE_MARKER = ".complete"
_DOWNLOADED = "Downloaded from"


def kafka_jars_dir(settings: InfraSettings) -> Path:
    return settings.cache_dir / f"kafka-{KAFKA_VERSION}"


def _pom_digest() -> str:
    return hashlib.sha256(_POM.read_bytes()).hexdigest()


def kafka_jars_ready(settings: InfraSettings) -> bool:
    marker = kafka_jars_dir(settings) / _COMPLETE_MARKER
    return marker.is_file() and marker.read_text().strip() == _pom_digest()


def fetch_kafka_jars(settings: InfraSettings, progress: ProgressReporter) -> Path:
    """The directory holding every broker jar; runs Maven only when the cache is incomplete."""
    target = kafka_jars_dir(settings)
    if kafka_jars_ready(settings):
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ToolMissing(
            "Fetching Kafka needs Maven (`mvn`) on PATH: install it (e.g. `apt-get install maven`)."
        )
    # Maven works in a scratch copy so nothing is written next to the packaged pom, and
    # the finished directory is moved into place so a half-done fetch is never used.
    work = settings.cache_dir / f"kafka-{KAFKA_VERSION}.partial"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pom = work / "pom.xml"
    shutil.copyfile(_POM, pom)
    staged = work / "jars"
    progress.stage(f"Fetching Kafka {KAFKA_VERSION} jars (Maven)")
    _run_maven(
        [
            mvn,
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staged}",
        ],
        progress,
    )
    if not any(staged.glob("*.jar")):
        raise FetchFailed(f"Maven finished but left no jars in {staged}")
    (staged / _COMPLETE_MARKER).write_text(_pom_digest())
    shutil.rmtree(target, ignore_errors=True)
    staged.rename(target)
    shutil.rmtree(work, ignore_errors=True)
    return target


def _run_maven(command: list[str], progress: ProgressReporter) -> None:
    tail: deque[str] = deque(maxlen=30)
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as maven:
        assert maven.stdout is not None  # guaranteed by stdout=PIPE
        for line in maven.stdout:
            tail.append(line.rstrip())
            if _DOWNLOADED in line and ".jar " in line:
                url = line.split(": ", 1)[-1].split(" ", 1)[0]
                progress.tick(url.rsplit("/", 1)[-1])
        returncode = maven.wait()
    if returncode != 0:
        output = "\n".join(tail)
        raise FetchFailed(f"`mvn dependency:copy-dependencies` exited {returncode}:\n{output}")
