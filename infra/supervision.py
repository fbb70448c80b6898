"""Running supervisord in the data dir and driving it over XML-RPC on its unix socket.

Each program lives in its own file under `<data>/supervisor.d/`, pulled in by
`[include]`, so a program can be added to a supervisord that is already running
(`reloadConfig` + `addProcessGroup`, as `supervisorctl update` does).
"""

import shlex
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import psutil
from supervisor.xmlrpc import SupervisorTransport

from infra.errors import SupervisorFailed
from infra.settings import InfraSettings

# Linux limits a unix socket path to 108 bytes including the terminating NUL.
_MAX_SOCKET_PATH = 107
_START_DEADLINE_S = 20.0
_SHUTDOWN_DEADLINE_S = 90.0
_POLL_INTERVAL_S = 0.1
RUNNING = "RUNNING"
ACTIVE_STATES = frozenset({"STARTING", "RUNNING", "BACKOFF", "STOPPING"})


@dataclass(frozen=True, slots=True)
class Program:
    """What supervisord runs for one service."""

    name: str
    command: Sequence[str]
    env: Mapping[str, str]
    cwd: Path
    stop_wait_s: int
    # A service that refuses to run as root (PostgreSQL) runs as this user instead.
    user: str | None = None
    stop_signal: str = "TERM"


@dataclass(frozen=True, slots=True)
class ProgramState:
    name: str
    state: str
    pid: int | None
    spawn_error: str


def _escape(value: str) -> str:
    # supervisord expands %(name)s in every value, so a literal % is doubled.
    return value.replace("%", "%%")


def _quoted_env_value(key: str, value: str) -> str:
    # supervisord splits `environment` with a non-POSIX shlex: quotes group, nothing escapes.
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    raise SupervisorFailed(f"environment variable {key} holds both quote kinds: cannot pass it")


def render_program(program: Program, log_path: Path) -> str:
    environment = ",".join(
        f"{key}={_quoted_env_value(key, _escape(value))}" for key, value in program.env.items()
    )
    lines = [
        f"[program:{program.name}]",
        f"command={_escape(shlex.join(program.command))}",
        f"directory={_escape(str(program.cwd))}",
        # `up` starts programs itself, in dependency order and only those asked for.
        "autostart=false",
        "autorestart=true",
        "startsecs=1",
        "startretries=3",
        "stopasgroup=true",
        "killasgroup=true",
        f"stopwaitsecs={program.stop_wait_s}",
        f"stopsignal={program.stop_signal}",
        "redirect_stderr=true",
        f"stdout_logfile={_escape(str(log_path))}",
        "stdout_logfile_maxbytes=20MB",
        "stdout_logfile_backups=3",
    ]
    if program.user is not None:
        lines.append(f"user={program.user}")
    if environment:
        lines.append(f"environment={environment}")
    return "\n".join(lines) + "\n"


class Supervisor:
    """The supervisord of one data dir."""

    def __init__(self, settings: InfraSettings) -> None:
        self._settings = settings
        self.config_path = settings.data_dir / "supervisord.conf"
        self.programs_dir = settings.data_dir / "supervisor.d"
        self.socket_path = settings.supervisor_socket
        self.logs_dir = settings.logs_dir

    def log_path(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    def _rpc(self, method: str, *args: object) -> Any:
        transport = SupervisorTransport(None, None, f"unix://{self.socket_path}")
        # The host is ignored: the transport always dials the unix socket.
        proxy = xmlrpc.client.ServerProxy("http://localhost", transport=transport)
        try:
            return getattr(proxy.supervisor, method)(*args)
        finally:
            transport.close()

    def _call(self, method: str, *args: object) -> Any:
        try:
            return self._rpc(method, *args)
        except xmlrpc.client.Fault as exc:
            raise SupervisorFailed(
                f"supervisord refused {method}{args}: {exc.faultString}"
            ) from exc
        except OSError as exc:
            raise SupervisorFailed(
                f"supervisord does not answer on {self.socket_path}: {exc}"
            ) from exc

    def is_running(self) -> bool:
        if not self.socket_path.exists():
            return False
        try:
            return cast(str, self._rpc("getState")["statename"]) == RUNNING
        except (OSError, xmlrpc.client.Error):
            return False

    def _main_config(self) -> str:
        data = self._settings.data_dir
        return "\n".join(
            [
                "[unix_http_server]",
                f"file={_escape(str(self.socket_path))}",
                "chmod=0700",
                "",
                "[supervisord]",
                f"logfile={_escape(str(self.logs_dir / 'supervisord.log'))}",
                "logfile_maxbytes=10MB",
                "logfile_backups=2",
                f"pidfile={_escape(str(data / 'supervisord.pid'))}",
                f"childlogdir={_escape(str(self.logs_dir))}",
                f"directory={_escape(str(data))}",
                "",
                "[rpcinterface:supervisor]",
                "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
                "",
                "[supervisorctl]",
                f"serverurl=unix://{_escape(str(self.socket_path))}",
                "",
                "[include]",
                f"files={_escape(str(self.programs_dir))}/*.conf",
                "",
            ]
        )

    def ensure_running(self) -> None:
        """Starts supervisord for this data dir unless it already answers."""
        if self.is_running():
            return
        if len(str(self.socket_path).encode()) > _MAX_SOCKET_PATH:
            raise SupervisorFailed(
                f"socket path {self.socket_path} is too long for a unix socket: "
                "choose a shorter CUREX_DATA_DIR"
            )
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.programs_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self._main_config())
        # supervisord forks into the background; the foreground part reports config
        # and socket errors before it exits.
        completed = subprocess.run(
            [*_supervisord_command(), "-c", str(self.config_path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if completed.returncode != 0:
            output = (completed.stdout + completed.stderr).strip()
            raise SupervisorFailed(f"supervisord exited {completed.returncode}: {output}")
        deadline = time.monotonic() + _START_DEADLINE_S
        while not self.is_running():
            if time.monotonic() > deadline:
                raise SupervisorFailed(
                    f"supervisord did not answer on {self.socket_path} within "
                    f"{_START_DEADLINE_S:g}s; see {self.logs_dir / 'supervisord.log'}"
                )
            time.sleep(_POLL_INTERVAL_S)

    def _program_path(self, program: Program) -> Path:
        return self.programs_dir / f"{program.name}.conf"

    def is_registered_as(self, program: Program) -> bool:
        """Whether supervisord knows `program` exactly as written now."""
        path = self._program_path(program)
        text = render_program(program, self.log_path(program.name))
        known = program.name in self.states()
        return known and path.is_file() and path.read_text() == text

    def register(self, program: Program) -> None:
        """Makes supervisord know `program` as written now; a changed one is replaced."""
        if self.is_registered_as(program):
            return
        self._program_path(program).write_text(render_program(program, self.log_path(program.name)))
        [[added, changed, _removed]] = self._call("reloadConfig")
        if program.name in changed:
            self.stop(program.name)
            self._call("removeProcessGroup", program.name)
            self._call("addProcessGroup", program.name)
        elif program.name in added:
            self._call("addProcessGroup", program.name)

    def states(self) -> dict[str, ProgramState]:
        infos = cast(list[dict[str, Any]], self._call("getAllProcessInfo"))
        return {
            info["name"]: ProgramState(
                name=info["name"],
                state=info["statename"],
                pid=info["pid"] or None,
                spawn_error=info.get("spawnerr", ""),
            )
            for info in infos
        }

    def start(self, name: str) -> None:
        # wait=False: the caller polls state and health against its own deadline.
        self._call("startProcess", name, False)

    def stop(self, name: str) -> None:
        state = self.states().get(name)
        if state is not None and state.state in ACTIVE_STATES:
            self._call("stopProcess", name, True)

    def shutdown(self, stop_order: Sequence[str]) -> None:
        """Stops the programs in `stop_order`, then every other one, then supervisord."""
        if not self.is_running():
            return
        known = self.states()
        for name in stop_order:
            if name in known:
                self.stop(name)
        self._call("stopAllProcesses", True)
        supervisord_pid = cast(int, self._call("getPID"))
        self._call("shutdown")
        deadline = time.monotonic() + _SHUTDOWN_DEADLINE_S
        while psutil.pid_exists(supervisord_pid) and _is_alive(supervisord_pid):
            if time.monotonic() > deadline:
                raise SupervisorFailed(
                    f"supervisord (pid {supervisord_pid}) still running "
                    f"{_SHUTDOWN_DEADLINE_S:g}s after shutdown"
                )
            time.sleep(_POLL_INTERVAL_S)


def _is_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _supervisord_command() -> list[str]:
    beside_python = Path(sys.executable).parent / "supervisord"
    if beside_python.is_file():
        return [str(beside_python)]
    return [sys.executable, "-m", "supervisor.supervisord"]
