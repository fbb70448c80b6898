"""Finding a Java runtime recent enough for a service (Kafka needs 17, Keycloak 21)."""

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from infra.errors import ToolMissing

MINIMUM_JAVA_MAJOR = 17
_VERSION_PATTERN = re.compile(r'version "(\d+)(?:\.(\d+))?')


@cache
def java_major_version(java: Path) -> int | None:
    """The major version `java -version` reports, or None when it cannot be read."""
    try:
        completed = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION_PATTERN.search(completed.stderr + completed.stdout)
    if match is None:
        return None
    major = int(match.group(1))
    # Java 8 and older report themselves as "1.8.0_..."
    if major == 1 and match.group(2) is not None:
        return int(match.group(2))
    return major


def find_java(
    minimum_major: int = MINIMUM_JAVA_MAJOR,
    preferred_homes: Sequence[Path] = (),
    purpose: str = "Kafka",
    hint: str = "Install a JDK (e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME.",
) -> Path:
    """The first java >= `minimum_major` found in `preferred_homes`, then JAVA_HOME, then PATH."""
    candidates = [home / "bin" / "java" for home in preferred_homes]
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidates.append(Path(java_home) / "bin" / "java")
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path))
    seen: list[str] = []
    for candidate in candidates:
        if not candidate.is_file():
            seen.append(f"{candidate} (missing)")
            continue
        major = java_major_version(candidate)
        if major is not None and major >= minimum_major:
            return candidate
        seen.append(f"{candidate} (version {major or 'unknown'})")
    looked = "; ".join(seen) if seen else "JAVA_HOME is unset and no java is on PATH"
    raise ToolMissing(f"{purpose} needs Java {minimum_major} or newer: {looked}. {hint}")
