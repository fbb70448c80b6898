"""Fetching the Keycloak server distribution from Maven Central and unpacking it into the cache."""

import stat
import zipfile
from pathlib import Path

from infra.errors import FetchFailed
from infra.maven import fetch_into_cache
from infra.progress import ProgressReporter
from infra.settings import InfraSettings

KEYCLOAK_VERSION = "26.7.3"
KEYCLOAK_RESOURCES = Path(__file__).parent
_POM = KEYCLOAK_RESOURCES / "pom.xml"
_ZIP_NAME = f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip"
# Holds the digest of the pom the distribution came from, so editing the pom refetches.
_COMPLETE_MARKER = ".curex-complete"


def keycloak_home(settings: InfraSettings) -> Path:
    return settings.cache_dir / f"keycloak-{KEYCLOAK_VERSION}"


def fetch_keycloak(settings: InfraSettings, progress: ProgressReporter) -> Path:
    """The unpacked distribution's home; runs Maven only when the cache is incomplete."""

    def goals(work: Path) -> list[str]:
        return ["dependency:copy", f"-Dkeycloak.outputDirectory={work}"]

    def collect(work: Path) -> Path:
        archive = work / _ZIP_NAME
        if not archive.is_file():
            raise FetchFailed(f"Maven finished but left no {_ZIP_NAME} in {work}")
        progress.stage(f"Unpacking Keycloak {KEYCLOAK_VERSION}")
        return _unpack(archive, work / "unpacked")

    return fetch_into_cache(
        pom=_POM,
        target=keycloak_home(settings),
        what=f"Keycloak {KEYCLOAK_VERSION}",
        stage=f"Fetching Keycloak {KEYCLOAK_VERSION} distribution (Maven, about 200 MB)",
        goals=goals,
        collect=collect,
        progress=progress,
        marker=_COMPLETE_MARKER,
    )


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
