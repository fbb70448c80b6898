"""Installing a Debian package the stack needs, when run as root; otherwise saying how."""

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from infra.errors import ToolMissing
from infra.progress import ProgressReporter


def install_package(package: str, needed_for: str, progress: ProgressReporter) -> None:
    """``apt-get install`` ``package``; ``needed_for`` names what needs it, for the message
    a non-root caller gets."""
    if os.geteuid() != 0:
        raise ToolMissing(
            f"{needed_for}: install Debian's package "
            f"(`sudo apt-get install {package}`), then run this again."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step, command in (
        ("Updating Debian's package lists", ["apt-get", "update", "-q"]),
        (f"Installing {package} (Debian)", ["apt-get", "install", "-y", "-q", package]),
    ):
        progress.stage(step)
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
            raise ToolMissing(f"`{' '.join(command)}` exited {done.returncode}:\n{tail}")


def ensure_package(
    package: str, needed_for: str, find: Callable[[], Path | None], progress: ProgressReporter
) -> Path:
    """What ``find`` finds, after installing Debian's ``package`` (as root) if it found
    nothing the first time."""
    found = find()
    if found is not None:
        return found
    install_package(package, needed_for, progress)
    found = find()
    if found is None:
        raise ToolMissing(f"{package} was installed but what it provides was not found")
    return found
