"""Finding Debian's Prometheus, and installing it from Debian's packages if absent."""

import shutil
from pathlib import Path

from infra.debian import ensure_package
from infra.progress import ProgressReporter

PACKAGE = "prometheus"


def prometheus_binary() -> Path | None:
    found = shutil.which("prometheus")
    return Path(found) if found else None


def promtool_binary() -> Path | None:
    found = shutil.which("promtool")
    return Path(found) if found else None


def ensure_prometheus(progress: ProgressReporter) -> Path:
    """The server's path, installing Debian's package first when run as root."""
    return ensure_package(PACKAGE, "Monitoring needs Prometheus", prometheus_binary, progress)
