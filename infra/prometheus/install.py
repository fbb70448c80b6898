"""Finding Debian's Prometheus, and installing it from Debian's packages if absent."""

import os
import shutil
import subprocess
from pathlib import Path

from infra.errors import ToolMissing
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
    found = prometheus_binary()
    if found is not None:
        return found
    if os.geteuid() != 0:
        raise ToolMissing(
            "Monitoring needs Prometheus: install Debian's package "
            f"(`sudo apt-get install {PACKAGE}`), then run this again."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step, command in (
        ("Updating Debian's package lists", ["apt-get", "update", "-q"]),
        (f"Installing {PACKAGE} (Debian)", ["apt-get", "install", "-y", "-q", PACKAGE]),
    ):
        progress.stage(step)
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
            raise ToolMissing(f"`{' '.join(command)}` exited {done.returncode}:\n{tail}")
    found = prometheus_binary()
    if found is None:
        raise ToolMissing(f"{PACKAGE} was installed but no prometheus is on PATH")
    return found
