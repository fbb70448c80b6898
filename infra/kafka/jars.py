"""Fetching the Kafka broker's runtime classpath from Maven Central into the user cache."""

from pathlib import Path

from infra.errors import FetchFailed
from infra.maven import fetch_into_cache
from infra.progress import ProgressReporter
from infra.settings import InfraSettings

KAFKA_VERSION = "4.1.1"
KAFKA_RESOURCES = Path(__file__).parent
_POM = KAFKA_RESOURCES / "pom.xml"
# Holds the digest of the pom the jars came from, so editing the pom refetches.
_COMPLETE_MARKER = ".complete"


def kafka_jars_dir(settings: InfraSettings) -> Path:
    return settings.cache_dir / f"kafka-{KAFKA_VERSION}"


def fetch_kafka_jars(settings: InfraSettings, progress: ProgressReporter) -> Path:
    """The directory holding every broker jar; runs Maven only when the cache is incomplete."""

    def goals(work: Path) -> list[str]:
        return [
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={work / 'jars'}",
        ]

    def collect(work: Path) -> Path:
        staged = work / "jars"
        if not any(staged.glob("*.jar")):
            raise FetchFailed(f"Maven finished but left no jars in {staged}")
        return staged

    return fetch_into_cache(
        pom=_POM,
        target=kafka_jars_dir(settings),
        what=f"Kafka {KAFKA_VERSION}",
        stage=f"Fetching Kafka {KAFKA_VERSION} jars (Maven)",
        goals=goals,
        collect=collect,
        progress=progress,
        marker=_COMPLETE_MARKER,
    )
