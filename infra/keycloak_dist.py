"""Fetching the Keycloak server distribution from Maven Central and unpacking it into the cache."""

import shutil
import stat
import zipfile
from pathlib import Path

from infra.errors import FetchFailed
from infra.maven import find_mvn, pom_digest, run_maven
from infra.progress import ProgressReporter
from infra.settings import InfraSettings

KEYCLOAK_VERSION = "26.7.3"
KEYCLOAK_RESOURCES = Path(__file__).with_name("keycloak")
_POM = KEYCLOAK_RESOURCES / "pom.xml"
_ZIP_NAME = f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip"
# Holds the digest of the pom the distribution came from, so editing the pom refetches.
_COMPLETE_MARKER = ".curex-complete"


def keycloak_home(settings: InfraSettings) -> Path:
    return settings.cache_dir / f"keycloak-{KEYCLOAK_VERSION}"


def keycloak_dist_ready(settings: InfraSettings) -> bool:
    marker = keycloak_home(settings) / _COMPLETE_MARKER
    return marker.is_file() and marker.read_text().strip() == pom_digest(_POM)


def fetch_keycloak(settings: InfraSettings, progress: ProgressReporter) -> Path:
    """The unpacked distribution's home; runs Maven only when the cache is incomplete."""
    home = keycloak_home(settings)
    if keycloak_dist_ready(settings):
        return home
    mvn = find_mvn(f"Keycloak {KEYCLOAK_VERSION}")
    # Maven and the unzip work in a scratch directory; the finished home is moved into
    # place last, so a half-done fetch is never used.
    work = settings.cache_dir / f"keycloak-{KEYCLOAK_VERSION}.partial"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pom = work / "pom.xml"
    shutil.copyfile(_POM, pom)
    progress.stage(f"Fetching Keycloak {KEYCLOAK_VERSION} distribution (Maven, about 200 MB)")
    run_maven(
        [mvn, "-B", "-f", str(pom), "dependency:copy", f"-Dkeycloak.outputDirectory={work}"],
        progress,
        f"Keycloak {KEYCLOAK_VERSION}",
    )
    archive = work / _ZIP_NAME
    if not archive.is_file():
        raise FetchFailed(f"Maven finished but left no {_ZIP_NAME} in {work}")
    progress.stage(f"Unpacking Keycloak {KEYCLOAK_VERSION}")
    unpacked = _unpack(archive, work / "unpacked")
    (unpacked / _COMPLETE_MARKER).write_text(pom_digest(_POM))
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
