"""Running Prometheus for this installation: a generated configuration that scrapes every
project service of the stack, the rules in ``rules.yml``, data under the data directory."""

import hashlib
from collections.abc import Mapping
from pathlib import Path

import orjson

from infra.errors import ServiceFailed
from infra.progress import ProgressReporter
from infra.prometheus.install import ensure_prometheus, prometheus_binary
from infra.settings import InfraSettings

RULES = Path(__file__).parent / "rules.yml"
SCRAPE_INTERVAL = "5s"
# Targets whose scrape costs the machine more than the others: the broker's JMX exporter
# reads its MBeans on every scrape (~80 ms, and the broker's CPU per committed transition
# went from 0.12 to 0.18 ms at saturation when scraped every 5 s).
SLOW_SCRAPES = {"kafka": "15s"}
# The alerts' windows assume this evaluation interval.
EVALUATION_INTERVAL = "5s"


def config_path(settings: InfraSettings) -> Path:
    return settings.config_dir / "prometheus.yml"


def storage_dir(settings: InfraSettings) -> Path:
    return settings.data_dir / "prometheus"


def scrape_config(targets: Mapping[str, str]) -> dict[str, object]:
    """One job per service (``targets``: service name -> host:port of its /metrics)."""
    return {
        "global": {
            "scrape_interval": SCRAPE_INTERVAL,
            "evaluation_interval": EVALUATION_INTERVAL,
        },
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {
                "job_name": name,
                "metrics_path": "/metrics",
                "static_configs": [{"targets": [address], "labels": {"service": name}}],
                **({"scrape_interval": SLOW_SCRAPES[name]} if name in SLOW_SCRAPES else {}),
            }
            for name, address in targets.items()
        ],
    }


def _rendered(targets: Mapping[str, str]) -> bytes:
    # JSON is YAML: no YAML writer needed.
    return orjson.dumps(scrape_config(targets), option=orjson.OPT_INDENT_2)


def config_digest(targets: Mapping[str, str]) -> str:
    """Changes with the scrape configuration or the rules, which Prometheus reads at start:
    part of its program's definition, so `up` restarts a running Prometheus for a change."""
    return hashlib.sha256(_rendered(targets) + RULES.read_bytes()).hexdigest()[:16]


def write_config(settings: InfraSettings, targets: Mapping[str, str]) -> None:
    path = config_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_rendered(targets))


def prepare_prometheus(
    settings: InfraSettings, targets: Mapping[str, str], progress: ProgressReporter
) -> None:
    ensure_prometheus(progress)
    storage_dir(settings).mkdir(parents=True, exist_ok=True)
    write_config(settings, targets)


def prometheus_command(settings: InfraSettings) -> list[str]:
    binary = prometheus_binary()
    if binary is None:
        raise ServiceFailed("Prometheus is not installed: run `curex up` to install it")
    return [
        str(binary),
        f"--config.file={config_path(settings)}",
        f"--storage.tsdb.path={storage_dir(settings)}",
        "--storage.tsdb.retention.time=7d",
        f"--web.listen-address=127.0.0.1:{settings.prometheus_port}",
    ]
