"""Fetching the Keycloak server distribution from Maven Central and unpacking it into the cache."""

import hashlib
import shutil
import stat
import subprocess
import zipfile
from collections import deque
from pathlib import Path

from infra.errors import FetchFailed, ToolMissing
from infra.progress import ProgressReporter
from infra.settings import InfraSettings

KEYCLOAK_VERSION = "26.7.3"
KEYCLOAK_RESOURCES = Path(__file__).with_name("keycloak")
_POM = KEYCLOAK_RESOURCES / "pom.xml"
_ZIP_NAME = f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip"
# Holds the digest of the pom the distribution came from, so editing the pom refetches.
_COMPLETE_MARKER = ".curex-complete"
_DOWNLOADED = "Downloaded from"


def keycloak_home(settings: InfraSettings) -> Path:
    return settings.cache_dir / f"keycloak-{KEYCLOAK_VERSION}"


def _pom_digest() -> str:
    return hashlib.sha256(_POM.read_bytes()).hexdigest()


def keycloak_dist_ready(settings: InfraSettings) -> bool:
    marker = keycloak_home(settings) / _COMPLETE_MARKER
    return marker.is_file() and marker.read_text().strip() == _pom_digest()


def fetch_keycloak(settings: InfraSettings, progress: ProgressReporter) -> Path:
    """The unpacked distribution's home; runs Maven only when the cache is incomplete."""
    home = keycloak_home(settings)
    if keycloak_dist_ready(settings):
        return home
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ToolMissing(
            "Fetching Keycloak needs Maven (`mvn`) on PATH: install it "
            "(e.g. `apt-get install maven`)."
        )
    # Maven and the unzip work in a scratch directory; the finished home is moved into
    # place last, so a half-done fetch is never used.
    work = settings.cache_dir / f"keycloak-{KEYCLOAK_VERSION}.partial"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pom = work / "pom.xml"
    shutil.copyfile(_POM, pom)
    progress.stage(f"Fetching Keycloak {KEYCLOAK_VERSION} distribution (Maven, about 200 MB)")
    _run_maven(
        [mvn, "-B", "-f", str(pom), "dependency:copy", f"-Dkeycloak.outputDirectory={work}"],
        progress,
    )
    archive = work / _ZIP_NAME
    if not archive.is_file():
        raise FetchFailed(f"Maven finished but left no {_ZIP_NAME} in {work}")
    progress.stage(f"Unpacking Keycloak {KEYCLOAK_VERSION}")
    unpacked = _unpack(archive, work / "unpacked")
    (unpacked / _COMPLETE_MARKER).write_text(_pom_digest())
    shutil.rmtree(home, ignore_errors=True)
    unpacked.rename(home)
    shutil.rmtree(work, ignore_errors=True)
    return home


def _unpack(archive: Path, target: Path) -> Path:
    """Extracts the zip keeping its Unix file modes (bin/kc.sh must stay executable);
    returns the single top-level directory it holds."""
    target.mkdir(parents=True)
    with zipfile.ZipFile(archive) as zipped:
        for member in zipped.infolist():
            path = Path(zipped.extract(member, target))
            mode = (member.external_attr >> 16) & 0o777
            if mode and not member.is_dir():
                path.chmod(mode | stat.S_IRUSR)
    tops = [child for child in target.iterdir() if child.is_dir()]
    if len(tops) != 1:
        raise FetchFailed(f"{archive.name} should hold one top-level directory, found {tops}")
    return tops[0]


def _run_maven(command: list[str], progress: ProgressReporter) -> None:
    tail: deque[str] = deque(maxlen=30)
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as maven:
        assert maven.stdout is not None  # guaranteed by stdout=PIPE
        for line in maven.stdout:
            tail.append(line.rstrip())
            if _DOWNLOADED in line:
                url = line.split(": ", 1)[-1].split(" ", 1)[0]
                size = line.rsplit("(", 1)[-1].split(" at ", 1)[0] if "(" in line else ""
                progress.tick(f"{url.rsplit('/', 1)[-1]} {size}".strip())
        returncode = maven.wait()
    if returncode != 0:
        output = "\n".join(tail)
        raise FetchFailed(f"`mvn dependency:copy` of Keycloak exited {returncode}:\n{output}")
