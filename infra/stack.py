"""Bringing services up in dependency order, reporting their status, and taking them down."""

import asyncio
import fcntl
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.errors import InfraError, ServiceFailed
from infra.health import check_health, run_blocking
from infra.ports import ensure_ports_free
from infra.postgres.server import cluster_dir
from infra.progress import ProgressReporter
from infra.services import ServiceSpec, service_registry, with_dependencies
from infra.settings import InfraSettings
from infra.supervision import ACTIVE_STATES, RUNNING, Program, ProgramState, Supervisor

_PROBE_TIMEOUT_S = 5.0
_POLL_INTERVAL_S = 0.25
_LOG_TAIL_LINES = 25
NOT_RUNNING = "STOPPED"


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    name: str
    state: str
    pid: int | None
    address: str
    health: str


@contextmanager
def _stack_lock(settings: InfraSettings) -> Iterator[None]:
    """Serialises `up`/`down` of one data dir across processes (parallel test sessions)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with (settings.data_dir / "stack.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    if not path.is_file():
        return f"(no log at {path})"
    with path.open("rb") as log:
        log.seek(0, 2)
        log.seek(max(0, log.tell() - 64_000))
        text = log.read().decode(errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def start_services(
    settings: InfraSettings, specs: Sequence[ServiceSpec], progress: ProgressReporter
) -> None:
    """Starts each spec in order (reusing running ones) and returns once all are healthy."""
    with _stack_lock(settings):
        supervisor = Supervisor(settings)
        if not supervisor.is_running():
            progress.stage("Starting supervisord")
            supervisor.ensure_running()
        for spec in specs:
            _bring_up(supervisor, spec, settings, progress)


def _bring_up(
    supervisor: Supervisor,
    spec: ServiceSpec,
    settings: InfraSettings,
    progress: ProgressReporter,
) -> None:
    current = supervisor.states().get(spec.name)
    if current is None or current.state not in ACTIVE_STATES:
        progress.stage(f"Preparing {spec.name}")
        # Checked before registering, so a refused service leaves nothing behind.
        ensure_ports_free(spec.name, spec.host, spec.ports)
        if spec.prepare is not None:
            spec.prepare(progress)
        program = _program(spec)
    else:
        program = _program(spec)
        # A running program whose definition changed is replaced below: what its new
        # definition needs (a new jar, say) is fetched first.
        if spec.prepare is not None and not supervisor.is_registered_as(program):
            progress.stage(f"Preparing {spec.name} (changed)")
            spec.prepare(progress)
    # A running program whose definition changed is stopped and replaced here.
    supervisor.register(program)
    if supervisor.states()[spec.name].state not in ACTIVE_STATES:
        progress.stage(f"Starting {spec.name}")
        supervisor.start(spec.name)
    progress.stage(f"Waiting for {spec.name} at {spec.address}")
    timeout_s = spec.startup_timeout_s
    _wait_healthy(supervisor, spec, settings.startup_timeout_s if timeout_s is None else timeout_s)
    if spec.after_healthy is not None:
        progress.stage(f"Configuring {spec.name}")
        run_blocking(spec.after_healthy)


def _program(spec: ServiceSpec) -> Program:
    return Program(
        name=spec.name,
        command=spec.command(),
        env=spec.env,
        cwd=spec.cwd,
        stop_wait_s=spec.stop_wait_s,
        user=spec.user,
        stop_signal=spec.stop_signal,
    )


def _wait_healthy(supervisor: Supervisor, spec: ServiceSpec, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    reason = "not probed yet"
    while True:
        state = supervisor.states()[spec.name]
        if state.state == "FATAL":
            why = f"exited and will not be restarted ({state.spawn_error or 'see log'})"
            raise _failure(supervisor, spec, why)
        if state.state == RUNNING:
            probe_reason = run_blocking(lambda: check_health(spec.health, _PROBE_TIMEOUT_S))
            if probe_reason is None:
                return
            reason = probe_reason
        else:
            reason = f"process is {state.state}"
        if time.monotonic() > deadline:
            raise _failure(supervisor, spec, f"not healthy after {timeout_s:g}s: {reason}")
        time.sleep(_POLL_INTERVAL_S)


def _failure(supervisor: Supervisor, spec: ServiceSpec, why: str) -> ServiceFailed:
    log = supervisor.log_path(spec.name)
    return ServiceFailed(f"{spec.name} {why}\nlast lines of {log}:\n{log_tail(log)}")


def select_services(settings: InfraSettings, names: Sequence[str] | None) -> list[ServiceSpec]:
    """The named registered services (all when None or empty) with their dependencies."""
    registry = service_registry(settings)
    return with_dependencies(registry, names if names else list(registry))


def start_named(
    settings: InfraSettings, names: Sequence[str] | None, progress: ProgressReporter
) -> list[ServiceSpec]:
    """Starts the named registered services (all when None or empty) with their dependencies."""
    specs = select_services(settings, names)
    start_services(settings, specs, progress)
    return specs


def _with_fabric(settings: InfraSettings) -> InfraSettings:
    return settings.model_copy(update={"ledger": "fabric"})


def stack_status(settings: InfraSettings) -> list[ServiceStatus]:
    """The state, pid and health of every registered service (and of the Fabric network's
    services when supervisord runs them, whichever ledger the settings name)."""
    supervisor = Supervisor(settings)
    states = supervisor.states() if supervisor.is_running() else {}
    selected = service_registry(settings)
    registry = {
        name: spec
        for name, spec in service_registry(_with_fabric(settings)).items()
        if name in selected or name in states
    }

    running = [spec for spec in registry.values() if _is_running(states.get(spec.name))]

    async def probe_running() -> list[str | None]:
        return await asyncio.gather(
            *(check_health(spec.health, _PROBE_TIMEOUT_S) for spec in running)
        )

    reasons = dict(zip([spec.name for spec in running], run_blocking(probe_running), strict=True))
    statuses = []
    for spec in registry.values():
        state = states.get(spec.name)
        if spec.name not in reasons:
            health = "-"
        elif (reason := reasons[spec.name]) is None:
            health = "healthy"
        else:
            health = f"unhealthy: {reason}"
        statuses.append(
            ServiceStatus(
                name=spec.name,
                state=state.state if state is not None else NOT_RUNNING,
                pid=state.pid if state is not None else None,
                address=spec.address,
                health=health,
            )
        )
    return statuses


def _is_running(state: ProgramState | None) -> bool:
    return state is not None and state.state == RUNNING


def stop_stack(settings: InfraSettings, purge: bool = False) -> None:
    """Stops every program (dependents first) and supervisord; `purge` deletes the data dir."""
    with _stack_lock(settings):
        stop_order = list(reversed(service_registry(_with_fabric(settings))))
        Supervisor(settings).shutdown(stop_order)
        if purge:
            # The database cluster may live outside the data dir (see infra.postgres.server).
            cluster = cluster_dir(settings)
            _purge(settings.data_dir)
            shutil.rmtree(cluster, ignore_errors=True)


def _purge(data_dir: Path) -> None:
    if not data_dir.exists():
        return
    if not (data_dir / "supervisord.conf").is_file():
        raise InfraError(f"refusing to purge {data_dir}: it does not look like a curex data dir")
    shutil.rmtree(data_dir)
