"""The Applications Database's Prometheus metrics: Debian's prometheus-postgres-exporter,
installed when missing, run as a supervised process on loopback.

It connects as the login-only role of ``infra.postgres.setup`` (a member of ``pg_monitor``),
reading its password from the installation's secret file, so the password is in no
command line or supervisor configuration. It exports server, per-database and per-table
statistics only: Debian's 0.11 has no statements collector (which would carry query text,
and so could carry identifiers), and no custom queries file may add one.
"""

import shutil
from pathlib import Path

from infra.debian import ensure_package
from infra.errors import ServiceFailed
from infra.postgres.server import MONITOR_SECRET, monitor_password
from infra.progress import ProgressReporter
from infra.settings import InfraSettings

PACKAGE = "prometheus-postgres-exporter"


def exporter_binary() -> Path | None:
    found = shutil.which(PACKAGE)
    return Path(found) if found else None


def ensure_exporter(progress: ProgressReporter) -> Path:
    """The exporter's path, installing Debian's package first when run as root."""
    return ensure_package(
        PACKAGE, "PostgreSQL's metrics need its Prometheus exporter", exporter_binary, progress
    )


def prepare_exporter(settings: InfraSettings, progress: ProgressReporter) -> None:
    ensure_exporter(progress)
    # Generated here too, so the secret file exists before the exporter reads it.
    monitor_password(settings)


def exporter_address(settings: InfraSettings) -> str:
    """host:port where the exporter serves /metrics."""
    return f"127.0.0.1:{settings.postgres_exporter_port}"


def exporter_command(settings: InfraSettings) -> list[str]:
    binary = exporter_binary()
    if binary is None:
        raise ServiceFailed(f"{PACKAGE} is not installed: run `curex up` to install it")
    return [
        str(binary),
        f"--web.listen-address={exporter_address(settings)}",
        # No custom queries, even if the caller's environment names a file.
        "--extend.query-path=",
        # Only the database named in the connection: no discovery of others.
        "--no-auto-discover-databases",
        "--log.level=warn",
    ]


def exporter_env(settings: InfraSettings) -> dict[str, str]:
    # No CUREX_* passthrough: the exporter reads none, and a changed variable would make
    # `up` restart it.
    return {
        "DATA_SOURCE_URI": (
            f"{settings.database_host}:{settings.database_port}/{settings.database_name}"
            "?sslmode=disable"
        ),
        "DATA_SOURCE_USER": settings.database_monitor_user,
        "DATA_SOURCE_PASS_FILE": str(settings.secrets_dir / MONITOR_SECRET),
    }
