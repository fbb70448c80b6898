"""The registry of services `curex up` can run: add a service by listing a ServiceSpec."""

import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from infra.errors import UnknownService
from infra.fabric.material import prepare_fabric
from infra.fabric.network import (
    CHANNEL,
    chaincode_address,
    fabric_root,
    gateway_connections,
    orderer_endpoint,
    peer_endpoint,
)
from infra.fabric.processes import (
    chaincode_env,
    grpc_serving,
    operations_health,
    orderer_command,
    orderer_env,
    peer_command,
    peer_env,
)
from infra.fabric.setup import setup_network
from infra.health import HealthProbe, http_ok
from infra.kafka.broker import kafka_command, prepare_kafka
from infra.kafka.metrics import broker_metrics_address
from infra.kafka.principals import (
    APPLICATIONS_SERVER,
    NOTIFIER,
    PROCESSORS,
    READ_MODEL,
    gateway_principal,
)
from infra.kafka.probe import probe_kafka
from infra.kafka.security import broker_admin_access, kafka_password, secure_bus
from infra.keycloak.clients import sync_installation
from infra.keycloak.service import (
    keycloak_command,
    keycloak_env,
    keycloak_health,
    keycloak_metrics_address,
    prepare_keycloak,
    realm_files,
)
from infra.ledger_keys import register_members, signing_key_path
from infra.postgres.exporter import (
    exporter_address,
    exporter_command,
    exporter_env,
    prepare_exporter,
)
from infra.postgres.server import (
    cluster_dir,
    database_url,
    postgres_command,
    postgres_ready,
    prepare_postgres,
    runs_as,
)
from infra.postgres.setup import set_up_database
from infra.progress import ProgressReporter
from infra.prometheus.server import config_digest, prepare_prometheus, prometheus_command
from infra.secrets import client_secret, ledger_access, pseudonym_key
from infra.settings import FabricOrg, InfraSettings
from ledger_gateway.fabric.chaincode.server import SERVICE as CHAINCODE_SERVICE
from schemas.topics import concrete_topics
from service_runtime.topics import ensure_topics

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
    user: str | None = None
    stop_signal: str = "TERM"
    # host:port serving Prometheus metrics at /metrics: scraped by the stack's Prometheus.
    metrics: str | None = None


def passthrough_env() -> dict[str, str]:
    """The caller's CUREX_* variables, which every child sees."""
    return {key: value for key, value in os.environ.items() if key.startswith(ENV_PREFIX)}


def _kafka_env(settings: InfraSettings, principal: str) -> dict[str, str]:
    """The bus principal a service runs as."""
    return {
        "CUREX_KAFKA_USERNAME": principal,
        "CUREX_KAFKA_PASSWORD": kafka_password(settings, principal),
    }


def _gateway_env(settings: InfraSettings, org: str) -> dict[str, str]:
    """A ledger gateway's organisation, bus principal and signing identity (its own only)."""
    env = {"CUREX_GATEWAY_ORG": org, **_kafka_env(settings, gateway_principal(org))}
    if settings.ledger == "fabric":
        connections = [c.model_dump(mode="json") for c in gateway_connections(settings, org)]
        env["CUREX_FABRIC_CONNECTIONS"] = json.dumps(connections)
        env["CUREX_FABRIC_CHANNEL"] = CHANNEL
    else:
        env["CUREX_GATEWAY_SIGNING_KEY"] = str(signing_key_path(settings, org))
    return env


def _project_env(settings: InfraSettings) -> dict[str, str]:
    return {
        **passthrough_env(),
        "CUREX_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "CUREX_LEDGER": settings.ledger,
        "CUREX_DATA_DIR": str(settings.data_dir),
        "CUREX_LEDGER_GATEWAY_PORT": str(settings.ledger_gateway_port),
        "CUREX_PROCESSORS_HEALTH_PORT": str(settings.processors_health_port),
        "CUREX_API_PORT": str(settings.api_port),
        "CUREX_KEYCLOAK_URL": settings.keycloak_url,
        "CUREX_NETWORK": settings.network.to_env(),
        "PYTHONUNBUFFERED": "1",
    }


def _python_command(module: str) -> list[str]:
    # sys.prefix, not sys.executable: python and python3 name the same venv, and
    # a differing command line would make `up` restart a healthy service.
    return [str(Path(sys.prefix) / "bin" / "python"), "-m", module]


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
        command=lambda: _python_command(module),
        address=address,
        health=http_ok(f"{address}/health"),
        ports=(port,),
        env={**_project_env(settings), **(extra_env or {})},
        depends_on=depends_on,
        metrics=address.removeprefix("http://"),
    )


def _kafka(settings: InfraSettings) -> ServiceSpec:
    async def secure_and_create_topics() -> None:
        await asyncio.to_thread(secure_bus, settings)
        await ensure_topics(broker_admin_access(settings), concrete_topics(settings.network))

    return ServiceSpec(
        name="kafka",
        command=lambda: kafka_command(settings),
        address=settings.kafka_bootstrap,
        health=lambda: probe_kafka(broker_admin_access(settings)),
        host=settings.kafka_host,
        ports=(settings.kafka_port, settings.kafka_controller_port, settings.kafka_metrics_port),
        # No CUREX_* passthrough: the broker reads none, and a changed variable would
        # make `up` restart it.
        cwd=settings.data_dir,
        prepare=lambda progress: prepare_kafka(settings, progress),
        after_healthy=secure_and_create_topics,
        # A clean broker shutdown flushes logs and avoids recovery on the next start.
        stop_wait_s=60,
        metrics=broker_metrics_address(settings),
    )


async def _sync_secrets(settings: InfraSettings) -> None:
    await sync_installation(settings, realm_files())


def _api_env(settings: InfraSettings) -> dict[str, str]:
    """The Applications Server's secrets: pseudonym key, its client's and the ledger clients'."""
    return {
        "CUREX_PSEUDONYM_KEY": pseudonym_key(settings),
        "CUREX_ADMIN_CLIENT_SECRET": client_secret(settings, "applications-server"),
        "CUREX_LEDGER_ACCESS": json.dumps(ledger_access(settings)),
        "CUREX_DATABASE_URL": database_url(settings),
        "CUREX_CREATES_PER_USER": settings.api_creates_per_user,
        "CUREX_CREATES_PER_ORG": settings.api_creates_per_org,
        "CUREX_EMERGENCIES_PER_USER": settings.api_emergencies_per_user,
        **_kafka_env(settings, APPLICATIONS_SERVER),
        "CUREX_NOTIFICATIONS_URL": settings.notifications_url,
        "CUREX_PROMETHEUS_URL": settings.prometheus_url,
    }


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
        after_healthy=lambda: _sync_secrets(settings),
        stop_wait_s=30,
        metrics=keycloak_metrics_address(settings),
    )


def _postgres(settings: InfraSettings) -> ServiceSpec:
    return ServiceSpec(
        name="postgres",
        command=lambda: postgres_command(settings),
        address=f"postgresql://{settings.database_host}:{settings.database_port}",
        health=postgres_ready(settings),
        host=settings.database_host,
        ports=(settings.database_port,),
        # No CUREX_* passthrough: the server reads only its flags.
        cwd=cluster_dir(settings),
        prepare=lambda progress: prepare_postgres(settings, progress),
        after_healthy=lambda: set_up_database(settings),
        user=runs_as(settings),
        # SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client.
        stop_signal="INT",
        stop_wait_s=60,
    )


def _postgres_exporter(settings: InfraSettings) -> ServiceSpec:
    address = exporter_address(settings)
    return ServiceSpec(
        name="postgres-exporter",
        command=lambda: exporter_command(settings),
        address=f"http://{address}",
        # Healthy once it serves metrics; whether it reaches the database is its pg_up.
        health=http_ok(f"http://{address}/metrics"),
        ports=(settings.postgres_exporter_port,),
        env=exporter_env(settings),
        cwd=settings.data_dir,
        # After the database's set-up, which creates the role it connects as.
        depends_on=("postgres",),
        prepare=lambda progress: prepare_exporter(settings, progress),
        metrics=address,
    )


def _chaincode_service_name(org: FabricOrg) -> str:
    return f"fabric-chaincode-{org.slug}"


def _peer_service_name(org: FabricOrg) -> str:
    return f"fabric-peer-{org.slug}"


def _fabric_chaincode(settings: InfraSettings, org: FabricOrg) -> ServiceSpec:
    # A chaincode server waits for its peer to dial it, so it starts first: the peer
    # connects to the chaincodes it runs as soon as it starts.
    return ServiceSpec(
        name=_chaincode_service_name(org),
        command=lambda: _python_command("ledger_gateway.fabric.chaincode"),
        address=chaincode_address(settings, org),
        health=grpc_serving(settings.fabric_host, org.chaincode_port, CHAINCODE_SERVICE),
        host=settings.fabric_host,
        ports=(org.chaincode_port,),
        env={**_project_env(settings), **chaincode_env(settings, org)},
    )


def _fabric_services(settings: InfraSettings) -> list[ServiceSpec]:
    """The chaincode servers, the orderer and one peer per org; once the last peer is
    healthy, the channel and the chaincode are set up (a no-op when they are)."""

    def prepare(progress: ProgressReporter) -> None:
        prepare_fabric(settings, progress)

    async def set_up_channel() -> None:
        await asyncio.to_thread(setup_network, settings)

    host = settings.fabric_host
    specs = [_fabric_chaincode(settings, org) for org in settings.fabric_orgs]
    specs.append(
        ServiceSpec(
            name="fabric-orderer",
            command=lambda: orderer_command(settings),
            address=orderer_endpoint(settings),
            health=operations_health(host, settings.fabric_orderer_operations_port),
            host=host,
            ports=(
                settings.fabric_orderer_port,
                settings.fabric_orderer_admin_port,
                settings.fabric_orderer_operations_port,
            ),
            env=orderer_env(settings),
            cwd=fabric_root(settings),
            prepare=prepare,
            stop_wait_s=30,
            metrics=f"{host}:{settings.fabric_orderer_operations_port}",
        )
    )
    peers: tuple[str, ...] = ()
    for index, org in enumerate(settings.fabric_orgs):
        last = index == len(settings.fabric_orgs) - 1
        specs.append(
            ServiceSpec(
                name=_peer_service_name(org),
                command=lambda: peer_command(settings),
                address=peer_endpoint(settings, org),
                health=operations_health(host, org.peer_operations_port),
                host=host,
                ports=(org.peer_port, org.peer_chaincode_port, org.peer_operations_port),
                env=peer_env(settings, org),
                cwd=fabric_root(settings),
                # Each peer after the previous ones, so the last one's setup finds all up.
                depends_on=("fabric-orderer", _chaincode_service_name(org), *peers),
                prepare=prepare,
                after_healthy=set_up_channel if last else None,
                stop_wait_s=30,
                metrics=f"{host}:{org.peer_operations_port}",
            )
        )
        peers = (*peers, _peer_service_name(org))
    return specs


def _gateway(
    settings: InfraSettings, name: str, org: str, port: int, ledger_deps: tuple[str, ...]
) -> ServiceSpec:
    spec = _python_module(
        name,
        "ledger_gateway",
        port,
        settings,
        depends_on=("kafka", *ledger_deps),
        extra_env={**_gateway_env(settings, org), "CUREX_LEDGER_GATEWAY_PORT": str(port)},
    )
    if settings.ledger == "fabric":
        return spec

    def prepare(_progress: ProgressReporter) -> None:
        register_members(settings)

    return replace(spec, prepare=prepare)


def service_registry(settings: InfraSettings) -> dict[str, ServiceSpec]:
    """Every known service, in dependency order."""
    fabric = _fabric_services(settings) if settings.ledger == "fabric" else []
    # On Fabric the gateways need the network, channel and chaincode set up.
    ledger_deps = tuple(spec.name for spec in fabric if spec.name.startswith("fabric-peer-"))
    specs = [
        _kafka(settings),
        _postgres(settings),
        _postgres_exporter(settings),
        _keycloak(settings),
        *fabric,
        # One gateway per member organisation, each signing with its own identity only.
        _gateway(
            settings,
            "ledger-gateway",
            "ES-SERMAS",
            settings.ledger_gateway_port,
            ledger_deps,
        ),
        _gateway(
            settings,
            "ledger-gateway-se-ki",
            "SE-KI",
            settings.ledger_gateway_se_ki_port,
            ledger_deps,
        ),
        _python_module(
            "processors",
            "processors",
            settings.processors_health_port,
            settings,
            extra_env={
                "CUREX_PSEUDONYM_KEY": pseudonym_key(settings),
                **_kafka_env(settings, PROCESSORS),
            },
        ),
        _python_module(
            "read-model",
            "read_model",
            settings.read_model_port,
            settings,
            depends_on=("kafka", "postgres"),
            extra_env={
                "CUREX_READ_MODEL_PORT": str(settings.read_model_port),
                "CUREX_DATABASE_URL": database_url(settings),
                **_kafka_env(settings, READ_MODEL),
            },
        ),
        _python_module(
            "applications-server",
            "producers",
            settings.api_port,
            settings,
            depends_on=("kafka", "postgres", "keycloak", "read-model"),
            extra_env=_api_env(settings),
        ),
        _python_module(
            "notifier",
            "notifier",
            settings.notifier_port,
            settings,
            depends_on=("kafka", "postgres", "keycloak", "read-model"),
            extra_env={
                "CUREX_NOTIFIER_PORT": str(settings.notifier_port),
                "CUREX_PSEUDONYM_KEY": pseudonym_key(settings),
                "CUREX_DATABASE_URL": database_url(settings),
                **_kafka_env(settings, NOTIFIER),
            },
        ),
    ]
    specs.append(_prometheus(settings, specs))
    return {spec.name: spec for spec in specs}


def _prometheus(settings: InfraSettings, services: list[ServiceSpec]) -> ServiceSpec:
    """Scrapes every service that serves metrics: the project's own and the infrastructure's."""
    targets = {spec.name: spec.metrics for spec in services if spec.metrics is not None}
    targets["prometheus"] = f"127.0.0.1:{settings.prometheus_port}"
    address = f"http://127.0.0.1:{settings.prometheus_port}"
    return ServiceSpec(
        name="prometheus",
        command=lambda: prometheus_command(settings),
        address=address,
        health=http_ok(f"{address}/-/ready"),
        ports=(settings.prometheus_port,),
        # Read by no one: a changed configuration changes the program, so `up` rewrites
        # it and restarts Prometheus.
        env={"CUREX_PROMETHEUS_CONFIG": config_digest(targets)},
        cwd=settings.data_dir,
        prepare=lambda progress: prepare_prometheus(settings, targets, progress),
    )


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
