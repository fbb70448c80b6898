"""The broker's Prometheus metrics: the JMX exporter's Java agent, fetched from Maven Central
into the cache and attached to the broker's JVM, serving on loopback only what
``jmx_exporter/kafka.yml`` selects."""

from pathlib import Path

from infra.errors import FetchFailed
from infra.maven import fetch_into_cache
from infra.progress import ProgressReporter
from infra.settings import InfraSettings

JMX_EXPORTER_VERSION = "1.0.1"
_RESOURCES = Path(__file__).parent / "jmx_exporter"
_POM = _RESOURCES / "pom.xml"
EXPORTER_CONFIG = _RESOURCES / "kafka.yml"
_JAR_NAME = f"jmx_prometheus_javaagent-{JMX_EXPORTER_VERSION}.jar"


def agent_dir(settings: InfraSettings) -> Path:
    return settings.cache_dir / f"jmx-exporter-{JMX_EXPORTER_VERSION}"


def agent_jar(settings: InfraSettings) -> Path:
    return agent_dir(settings) / _JAR_NAME


def fetch_jmx_exporter(settings: InfraSettings, progress: ProgressReporter) -> Path:
    """The agent's jar; runs Maven only when the cache lacks it."""

    def goals(work: Path) -> list[str]:
        return ["dependency:copy", f"-Djmx-exporter.outputDirectory={work / 'agent'}"]

    def collect(work: Path) -> Path:
        staged = work / "agent"
        if not (staged / _JAR_NAME).is_file():
            raise FetchFailed(f"Maven finished but left no {_JAR_NAME} in {staged}")
        return staged

    fetch_into_cache(
        pom=_POM,
        target=agent_dir(settings),
        what=f"the JMX exporter {JMX_EXPORTER_VERSION}",
        stage=f"Fetching the Prometheus JMX exporter {JMX_EXPORTER_VERSION} (Maven)",
        goals=goals,
        collect=collect,
        progress=progress,
    )
    return agent_jar(settings)


def broker_metrics_address(settings: InfraSettings) -> str:
    """host:port where the broker serves /metrics."""
    return f"{settings.kafka_host}:{settings.kafka_metrics_port}"


def javaagent_option(settings: InfraSettings) -> str:
    """The JVM option attaching the agent: ``-javaagent:<jar>=<host>:<port>:<config>``."""
    return f"-javaagent:{agent_jar(settings)}={broker_metrics_address(settings)}:{EXPORTER_CONFIG}"
