"""Finding Debian's PostgreSQL server, and installing it from Debian's packages if absent."""

from pathlib import Path

from infra.debian import ensure_package
from infra.progress import ProgressReporter

PACKAGE = "postgresql"
_BIN_ROOT = Path("/usr/lib/postgresql")


def server_bin_dir() -> Path | None:
    """The newest installed major version's bin directory holding ``postgres``."""
    if not _BIN_ROOT.is_dir():
        return None
    versions = sorted(
        (child for child in _BIN_ROOT.iterdir() if (child / "bin" / "postgres").is_file()),
        key=lambda child: int(child.name) if child.name.isdigit() else 0,
    )
    return versions[-1] / "bin" if versions else None


def ensure_server(progress: ProgressReporter) -> Path:
    """The server's bin directory, installing Debian's package first when run as root."""
    return ensure_package(
        PACKAGE, "The Applications Database needs PostgreSQL", server_bin_dir, progress
    )
