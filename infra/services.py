"""The registry of services `curex up` can run: add a service by listing a ServiceSpec."""

import os
import sys
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.errors import UnknownService
from infra.ferretdb_server import docdb_command, mongo_ping, prepare_docdb
from infra.health import HealthProbe, http_ok
from infra.kafka_broker import kafka_command, prepare_kafka
from infra.kafka_topics import ensure_topics, probe_kafka
from infra.keycloak_service import (
    keycloak_command,
    keycloak_env,
    keycloak_health,
    prepare_keycloak,
)
from infra.progress import ProgressReporter
from infra.settings import InfraSettings
from schemas.topics import ALL_TOPICS

ENV_PREFIX = "CUREX_"
# The directory holding the project's packages: children run `python -m <module>` from it.
SOURCE_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One service: how to run it, where it listens and how to tell it is healthy."""

    name: str
    command: Callable[[], list[str]]
    address: str
    health: HealthProbe
    host: str = "127.0.0.1"
    ports: tuple[int, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path = SOURCE_ROOT
    depends_on: tuple[str, ...] = ()
    prepare: Callable[[ProgressReporter], None] | None = None
    after_healthy: Callable[[], Coroutine[Any, Any, None]] | None = None
    # None: InfraSettings.startup_timeout_s.
    startup_timeout_s: float | None = None
    stop_wait_s: int = 15


def passthrough_env() -> dict[str, str]:
    """The caller's CUREX_* variables, which every child sees."""
    return {key: value for key, value in os.environ.items() if key.startswith(ENV_PREFIX)}


def _project_env(settings: InfraSettings) -> dict[str, str]:
    return {
        **passthrough_env(),
        "CUREX_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "CUREX_LEDGER": settings.ledger,
        "CUREX_DATA_DIR": str(settings.data_dir),
        "CUREX_LEDGER_GATEWAY_PORT": str(settings.ledger_gateway_port),
        "CUREX_PROCESSORS_HEALTH_PORT": str(settings.processors_health_port),
        "CUREX_API_PORT": str(settings.api_port),
        "PYTHONUNBUFFERED": "1",
    }


def _python_module(
    name: str,
    module: str,
    port: int,
    settings: InfraSettings,
    depends_on: tuple[str, ...] = ("kafka",),
    extra_env: dict[str, str] | None = None,
) -> ServiceSpec:
    address = f"http://127.0.0.1:{port}"
    return ServiceSpec(
        name=name,
        # sys.prefix, not sys.executable: python and python3 name the same venv, and
        # a differing command line would make `up` restart a healthy service.
        command=lambda: [str(Path(sys.prefix) / "bin" / "python"), "-m", module],
        address=address,
        health=http_ok(f"{address}/health"),
        ports=(port,),
        env={**_project_env(settings), **(extra_env or {})},
        depends_on=depends_on,
    )


def _kafka(settings: InfraSettings) -> ServiceSpec:
    async def create_topics() -> None:
        await ensure_topics(settings.kafka_bootstrap, ALL_TOPICS)

    return ServiceSpec(
        name="kafka",
        command=lambda: kafka_command(settings),
        address=settings.kafka_bootstrap,
        health=lambda: probe_kafka(settings.kafka_bootstrap),
        host=settings.kafka_host,
        ports=(settings.kafka_port, settings.kafka_controller_port),
        # No CUREX_* passthrough: the broker reads none, and a changed variable would
        # make `up` restart it.
        cwd=settings.data_dir,
        prepare=lambda progress: prepare_kafka(settings, progress),
        after_healthy=create_topics,
        # A clean broker shutdown flushes logs and avoids recovery on the next start.
        stop_wait_s=60,
    )


def _keycloak(settings: InfraSettings) -> ServiceSpec:
    return ServiceSpec(
        name="keycloak",
        command=lambda: keycloak_command(settings),
        address=settings.keycloak_url,
        health=keycloak_health(settings),
        host=settings.keycloak_host,
        ports=(settings.keycloak_port, settings.keycloak_management_port),
        env=keycloak_env(settings),
        cwd=settings.keycloak_data_dir,
        prepare=lambda progress: prepare_keycloak(settings, progress),
        startup_timeout_s=settings.keycloak_startup_timeout_s,
        stop_wait_s=30,
    )


def _docdb(settings: InfraSettings) -> ServiceSpec:
    return ServiceSpec(
        name="docdb",
        command=lambda: docdb_command(settings),
        address=settings.docdb_url,
        health=mongo_ping(settings.docdb_url),
        host=settings.docdb_host,
        ports=(settings.docdb_port,),
        # No CUREX_* passthrough: the server reads only its flags.
        cwd=settings.data_dir,
        prepare=lambda progress: prepare_docdb(settings, progress),
    )


def service_registry(settings: InfraSettings) -> dict[str, ServiceSpec]:
    """Every known service, in dependency order."""
    specs = [
        _kafka(settings),
        _docdb(settings),
        _keycloak(settings),
        _python_module(
            "ledger-gateway",
            "ledger_gateway",
            settings.ledger_gateway_port,
            settings,
            extra_env={"CUREX_GATEWAY_ORG": "ES-SERMAS"},
        ),
        # SE-KI's Blockchain API reads the same embedded ledger; ES-SERMAS's instance writes.
        _python_module(
            "ledger-gateway-se-ki",
            "ledger_gateway",
            settings.ledger_gateway_se_ki_port,
            settings,
            depends_on=(),
            extra_env={
                "CUREX_GATEWAY_ORG": "SE-KI",
                "CUREX_GATEWAY_WRITER": "false",
                "CUREX_LEDGER_GATEWAY_PORT": str(settings.ledger_gateway_se_ki_port),
            },
        ),
        _python_module(
            "processors",
            "processors",
            settings.processors_health_port,
            settings,
        ),
        _python_module(
            "read-model",
            "processors.projector_service",
            settings.read_model_port,
            settings,
            depends_on=("kafka", "docdb"),
            extra_env={"CUREX_READ_MODEL_PORT": str(settings.read_model_port)},
        ),
        _python_module(
            "applications-server",
            "producers",
            settings.api_port,
            settings,
            depends_on=("kafka", "docdb", "keycloak", "read-model"),
        ),
    ]
    return {spec.name: spec for spec in specs}


def with_dependencies(
    registry: Mapping[str, ServiceSpec], names: Iterable[str]
) -> list[ServiceSpec]:
    """The named services plus everything they depend on, dependencies first."""
    wanted: set[str] = set()

    def visit(name: str) -> None:
        if name not in registry:
            known = ", ".join(registry)
            raise UnknownService(f"no service named {name!r}; known services: {known}")
        if name in wanted:
            return
        wanted.add(name)
        for dependency in registry[name].depends_on:
            visit(dependency)

    for name in names:
        visit(name)
    ordered: list[ServiceSpec] = []
    placed: set[str] = set()
    while len(ordered) < len(wanted):
        ready = [
            spec
            for name, spec in registry.items()
            if name in wanted and name not in placed and set(spec.depends_on) <= placed
        ]
        if not ready:
            raise UnknownService(f"dependency cycle among {sorted(wanted - placed)}")
        ordered.extend(ready)
        placed.update(spec.name for spec in ready)
    return ordered
