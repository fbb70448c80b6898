"""Running Fabric's commands (cryptogen, configtxgen, peer, osnadmin) from the cache."""

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from infra.errors import FabricCommandFailed
from infra.fabric.commands import fabric_binary
from infra.fabric.network import fabric_config_dir
from infra.settings import InfraSettings

_DEFAULT_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class CommandResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return (self.stdout + self.stderr).strip()


def run_fabric(
    settings: InfraSettings,
    tool: str,
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    timeout_s: float = _DEFAULT_TIMEOUT_S,
) -> CommandResult:
    """Runs `tool args` with FABRIC_CFG_PATH set; the caller judges the exit code."""
    command = [str(fabric_binary(settings, tool)), *args]
    full_env = {
        **os.environ,
        "FABRIC_CFG_PATH": str(fabric_config_dir(settings)),
        "FABRIC_LOGGING_SPEC": "warning",
        **(env or {}),
    }
    try:
        completed = subprocess.run(
            command,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise FabricCommandFailed(
            f"`{tool} {' '.join(args[:3])}` did not finish within {timeout_s:g}s"
        ) from exc
    return CommandResult(completed.returncode, completed.stdout, completed.stderr)


def check_fabric(
    settings: InfraSettings,
    tool: str,
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    timeout_s: float = _DEFAULT_TIMEOUT_S,
) -> str:
    """Runs `tool args` and returns its stdout; a non-zero exit raises FabricCommandFailed."""
    result = run_fabric(settings, tool, args, env, timeout_s)
    if result.returncode != 0:
        raise FabricCommandFailed(
            f"`{tool} {' '.join(args)}` exited {result.returncode}:\n{result.output}"
        )
    return result.stdout
