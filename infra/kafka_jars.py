"""Fetching the Kafka broker's runtime classpath from Maven Central into the user cache."""

import shutil
from pathlib import Path

from infra.errors import FetchFailed
from infra.maven import find_mvn, pom_digest, run_maven
from infra.progress import ProgressReporter
from infra.settings import InfraSettings

KAFKA_VERSION = "4.1.1"
KAFKA_RESOURCES = Path(__file__).with_name("kafka")
_POM = KAFKA_RESOURCES / "pom.xml"
# Holds the digest of the pom the jars came from, so editing the pom refetches.
_COMPLETE_MARKER = ".complete"


def kafka_jars_dir(settings: InfraSettings) -> Path:
    return settings.cache_dir / f"kafka-{KAFKA_VERSION}"


def kafka_jars_ready(settings: InfraSettings) -> bool:
    marker = kafka_jars_dir(settings) / _COMPLETE_MARKER
    return marker.is_file() and marker.read_text().strip() == pom_digest(_POM)


def fetch_kafka_jars(settings: InfraSettings, progress: ProgressReporter) -> Path:
    """The directory holding every broker jar; runs Maven only when the cache is incomplete."""
    target = kafka_jars_dir(settings)
    if kafka_jars_ready(settings):
        return target
    mvn = find_mvn(f"Kafka {KAFKA_VERSION}")
    # Maven works in a scratch copy so nothing is written next to the packaged pom, and
    # the finished directory is moved into place so a half-done fetch is never used.
    work = settings.cache_dir / f"kafka-{KAFKA_VERSION}.partial"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pom = work / "pom.xml"
    shutil.copyfile(_POM, pom)
    staged = work / "jars"
    progress.stage(f"Fetching Kafka {KAFKA_VERSION} jars (Maven)")
    run_maven(
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
        f"Kafka {KAFKA_VERSION}",
    )
    if not any(staged.glob("*.jar")):
        raise FetchFailed(f"Maven finished but left no jars in {staged}")
    (staged / _COMPLETE_MARKER).write_text(pom_digest(_POM))
    shutil.rmtree(target, ignore_errors=True)
    staged.rename(target)
    shutil.rmtree(work, ignore_errors=True)
    return target
