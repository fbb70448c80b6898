"""The chaincode-as-a-service packages: one per org, byte-for-byte reproducible.

A package is a tar.gz holding `metadata.json` (type `ccaas`) and `code.tar.gz`, which
holds the `connection.json` telling the peer where the org's chaincode server listens.
Fabric names an installed package `<label>:<sha256 of the package file>`; since the
archives carry no timestamps or owners, that id is known before anything is installed,
so the chaincode server can be given it when its program is defined.
"""

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

from infra.fabric.network import CHAINCODE_NAME, chaincode_address, packages_dir
from infra.settings import FabricOrg, InfraSettings

# How long the peer waits for a connection to the chaincode server.
_DIAL_TIMEOUT = "10s"


@dataclass(frozen=True, slots=True)
class ChaincodePackage:
    label: str
    content: bytes

    @property
    def package_id(self) -> str:
        return f"{self.label}:{hashlib.sha256(self.content).hexdigest()}"


def _json(document: dict[str, object]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.USTAR_FORMAT) as archive,
    ):
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def package_label(org: FabricOrg) -> str:
    return f"{CHAINCODE_NAME}_{org.slug}"


def chaincode_package(settings: InfraSettings, org: FabricOrg) -> ChaincodePackage:
    connection = {
        "address": chaincode_address(settings, org),
        "dial_timeout": _DIAL_TIMEOUT,
        "tls_required": False,
    }
    label = package_label(org)
    code = _tar_gz({"connection.json": _json(connection)})
    metadata = _json({"type": "ccaas", "label": label})
    return ChaincodePackage(
        label=label, content=_tar_gz({"metadata.json": metadata, "code.tar.gz": code})
    )


def package_path(settings: InfraSettings, org: FabricOrg) -> Path:
    return packages_dir(settings) / f"{package_label(org)}.tar.gz"


def write_package(settings: InfraSettings, org: FabricOrg) -> ChaincodePackage:
    """Writes the org's package file unless it already holds exactly these bytes."""
    package = chaincode_package(settings, org)
    path = package_path(settings, org)
    if not (path.is_file() and path.read_bytes() == package.content):
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_suffix(".partial")
        staged.write_bytes(package.content)
        staged.replace(path)
    return package
