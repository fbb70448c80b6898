"""Building the document DB server (FerretDB embedded in `infra/ferretdb/`) into the user cache.

FerretDB comes from the Go module proxy, pinned by `infra/ferretdb/go.mod` and `go.sum`.
The binary is cached under a directory named for the FerretDB version, next to the
digest of the Go sources it was built from, so editing any of them rebuilds it.
"""

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from infra.errors import FetchFailed, ToolMissing
from infra.progress import ProgressReporter
from infra.settings import InfraSettings

FERRETDB_VERSION = "1.24.2"
FERRETDB_SOURCES = Path(__file__).parent
_SOURCE_FILES = ("go.mod", "go.sum", "main.go", "idindex.go")
BINARY_NAME = "curex-ferretdb"
_DIGEST_FILE = ".source-digest"
# The SQLite handler is all we run; leaving PostgreSQL's out shortens the first build.
_BUILD_TAGS = "ferretdb_no_postgresql"
_BUILD_TIMEOUT_S = 1800


def ferretdb_binary(settings: InfraSettings) -> Path:
    return settings.cache_dir / f"ferretdb-{FERRETDB_VERSION}" / BINARY_NAME


def source_digest() -> str:
    """The SHA-256 over the Go sources, each file's name and content."""
    digest = hashlib.sha256()
    for name in _SOURCE_FILES:
        digest.update(name.encode() + b"\0")
        digest.update((FERRETDB_SOURCES / name).read_bytes())
    return digest.hexdigest()


def ferretdb_ready(settings: InfraSettings) -> bool:
    binary = ferretdb_binary(settings)
    marker = binary.with_name(_DIGEST_FILE)
    return binary.is_file() and marker.is_file() and marker.read_text().strip() == source_digest()


def build_ferretdb(settings: InfraSettings, progress: ProgressReporter) -> Path:
    """The server binary; runs `go build` only when it is missing or its sources changed."""
    binary = ferretdb_binary(settings)
    if ferretdb_ready(settings):
        return binary
    go = shutil.which("go")
    if go is None:
        raise ToolMissing(
            "Building the document DB (FerretDB) needs Go 1.24 or newer (`go`) on PATH: "
            "install Go, or add the directory holding `go` to PATH."
        )
    binary.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the target and renamed over it, so a half-written binary is never run.
    staged = binary.with_name(f"{BINARY_NAME}.partial-{os.getpid()}")
    progress.stage(
        f"Building FerretDB {FERRETDB_VERSION} with go build (the first build takes minutes)"
    )
    _run_go_build(go, staged)
    digest = source_digest()
    staged.replace(binary)
    binary.with_name(_DIGEST_FILE).write_text(digest)
    return binary


def _run_go_build(go: str, output: Path) -> None:
    # Flags on the command line override any GOFLAGS the user set; -mod=readonly
    # refuses to touch go.mod/go.sum, so the build uses exactly the pinned versions.
    command = [
        go,
        "build",
        "-mod=readonly",
        "-trimpath",
        "-buildvcs=false",
        f"-tags={_BUILD_TAGS}",
        "-o",
        str(output),
        ".",
    ]
    try:
        completed = subprocess.run(
            command,
            cwd=FERRETDB_SOURCES,
            env={**os.environ, "CGO_ENABLED": "0"},
            capture_output=True,
            text=True,
            timeout=_BUILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output.unlink(missing_ok=True)
        raise FetchFailed(
            f"`go build` of FerretDB did not finish within {_BUILD_TIMEOUT_S}s"
        ) from exc
    if completed.returncode != 0:
        output.unlink(missing_ok=True)
        log = (completed.stdout + completed.stderr).strip()
        raise FetchFailed(
            f"`go build` of FerretDB in {FERRETDB_SOURCES} exited {completed.returncode}:\n{log}"
        )
