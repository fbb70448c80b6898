"""Building Hyperledger Fabric's commands (peer, orderer, ...) into the user cache.

Fabric 2.5.9 comes from the Go module proxy, pinned by `infra/fabric/go.mod` and `go.sum`
(a wrapper module whose `tools.go` imports the commands). The binaries and Fabric's
sample `core.yaml`/`orderer.yaml` are cached under a directory named for the Fabric
version, next to the digest of the wrapper module, so editing it rebuilds them.
"""

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from infra.errors import FetchFailed, ToolMissing
from infra.progress import ProgressReporter
from infra.settings import InfraSettings

FABRIC_VERSION = "2.5.9"
FABRIC_MODULE = "github.com/hyperledger/fabric"
FABRIC_SOURCES = Path(__file__).parent
_SOURCE_FILES = ("go.mod", "go.sum", "tools.go")
COMMANDS = ("peer", "orderer", "osnadmin", "configtxgen", "cryptogen")
SAMPLE_CONFIGS = ("core.yaml", "orderer.yaml")
_DIGEST_FILE = ".source-digest"
_BUILD_TIMEOUT_S = 1800


def fabric_home(settings: InfraSettings) -> Path:
    return settings.cache_dir / f"fabric-{FABRIC_VERSION}"


def fabric_bin_dir(settings: InfraSettings) -> Path:
    return fabric_home(settings) / "bin"


def fabric_binary(settings: InfraSettings, command: str) -> Path:
    return fabric_bin_dir(settings) / command


def sample_config_dir(settings: InfraSettings) -> Path:
    """Fabric's own sampleconfig files, as shipped in the pinned module."""
    return fabric_home(settings) / "sampleconfig"


def source_digest() -> str:
    """The SHA-256 over the wrapper module's files, each file's name and content."""
    digest = hashlib.sha256()
    for name in _SOURCE_FILES:
        digest.update(name.encode() + b"\0")
        digest.update((FABRIC_SOURCES / name).read_bytes())
    return digest.hexdigest()


def _marker(settings: InfraSettings) -> Path:
    return fabric_home(settings) / _DIGEST_FILE


def fabric_commands_ready(settings: InfraSettings) -> bool:
    marker = _marker(settings)
    return (
        marker.is_file()
        and marker.read_text().strip() == source_digest()
        and all(fabric_binary(settings, command).is_file() for command in COMMANDS)
        and all((sample_config_dir(settings) / name).is_file() for name in SAMPLE_CONFIGS)
    )


def build_fabric_commands(settings: InfraSettings, progress: ProgressReporter) -> Path:
    """The bin directory; runs `go build` only when a binary is missing or go.mod/go.sum changed."""
    bin_dir = fabric_bin_dir(settings)
    if fabric_commands_ready(settings):
        return bin_dir
    go = shutil.which("go")
    if go is None:
        raise ToolMissing(
            f"Building Hyperledger Fabric {FABRIC_VERSION} (peer, orderer) needs Go 1.22 or "
            "newer (`go`) on PATH: install Go, or add the directory holding `go` to PATH."
        )
    _marker(settings).unlink(missing_ok=True)
    bin_dir.mkdir(parents=True, exist_ok=True)
    progress.stage(
        f"Building Hyperledger Fabric {FABRIC_VERSION} commands with go build "
        "(the first build takes minutes)"
    )
    for command in COMMANDS:
        # Built beside the target and renamed over it, so a half-written binary is never run.
        staged = bin_dir / f"{command}.partial-{os.getpid()}"
        _run_go(go, ["build", "-trimpath", "-o", str(staged), f"{FABRIC_MODULE}/cmd/{command}"])
        staged.replace(fabric_binary(settings, command))
        progress.tick(command)
    _copy_sample_configs(go, sample_config_dir(settings))
    _marker(settings).write_text(source_digest())
    return bin_dir


def _copy_sample_configs(go: str, target: Path) -> None:
    module_dir = Path(_run_go(go, ["list", "-m", "-f", "{{.Dir}}", FABRIC_MODULE]).strip())
    target.mkdir(parents=True, exist_ok=True)
    for name in SAMPLE_CONFIGS:
        # copyfile, not copy: the module cache is read-only and the copies need not be.
        shutil.copyfile(module_dir / "sampleconfig" / name, target / name)


def _run_go(go: str, args: list[str]) -> str:
    # -mod=readonly refuses to touch go.mod/go.sum, so the build uses exactly the pinned
    # versions, verified against go.sum (no checksum-database lookup is needed).
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly -buildvcs=false"}
    try:
        completed = subprocess.run(
            [go, *args],
            cwd=FABRIC_SOURCES,
            env=env,
            capture_output=True,
            text=True,
            timeout=_BUILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise FetchFailed(
            f"`go {args[0]}` of Fabric did not finish within {_BUILD_TIMEOUT_S}s"
        ) from exc
    if completed.returncode != 0:
        log = (completed.stdout + completed.stderr).strip()
        raise FetchFailed(
            f"`go {' '.join(args)}` in {FABRIC_SOURCES} exited {completed.returncode}:\n{log}"
        )
    return completed.stdout
