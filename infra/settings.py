"""Where the local stack keeps its data and which addresses its services use."""

from pathlib import Path
from typing import Literal

from platformdirs import user_cache_dir, user_data_dir
from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.network import Network

LedgerKind = Literal["embedded", "fabric"]


class FabricOrg(BaseModel):
    """One peer organisation of the local Fabric network: its MSP id is the CUREX org id."""

    model_config = ConfigDict(frozen=True)

    msp_id: str
    domain: str
    peer_port: int
    # The peer's own chaincode listener (unused by chaincode-as-a-service, bound anyway).
    peer_chaincode_port: int
    peer_operations_port: int
    # Where this org's chaincode server listens; the peer dials it.
    chaincode_port: int

    @property
    def slug(self) -> str:
        return self.msp_id.lower()


DEFAULT_FABRIC_ORGS = (
    FabricOrg(
        msp_id="ES-SERMAS",
        domain="es-sermas.curex.local",
        peer_port=7051,
        peer_chaincode_port=7052,
        peer_operations_port=9443,
        chaincode_port=7060,
    ),
    FabricOrg(
        msp_id="SE-KI",
        domain="se-ki.curex.local",
        peer_port=9051,
        peer_chaincode_port=9052,
        peer_operations_port=9444,
        chaincode_port=9060,
    ),
)


class InfraSettings(BaseSettings):
    """Settings of `curex up/status/down`, read from `CUREX_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="CUREX_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("curex")))
    cache_dir: Path = Field(default_factory=lambda: Path(user_cache_dir("curex")))
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_controller_port: int = 9093
    # The broker's JMX exporter agent: Prometheus metrics on loopback.
    kafka_metrics_port: int = 9404
    ledger_gateway_port: int = 8091
    processors_health_port: int = 8095
    api_port: int = 8080
    read_model_port: int = 8096
    notifier_port: int = 8097
    # Prometheus, scraping every service (Debian's package, run by `curex up`).
    prometheus_port: int = 9090
    ledger_gateway_se_ki_port: int = 8092
    # The Applications Database: a local PostgreSQL `curex up` initialises and runs.
    database_host: str = "127.0.0.1"
    database_port: int = 5433
    database_name: str = "curex"
    database_user: str = "curex"
    # The PostgreSQL exporter (Debian's prometheus-postgres-exporter) and the login-only
    # pg_monitor role it connects as.
    postgres_exporter_port: int = 9187
    database_monitor_user: str = "curex_monitor"
    ledger: LedgerKind = "embedded"
    # The local stack's create limits: high enough for the benches, which create thousands
    # of emergencies as one professional (the server's own defaults are far lower).
    api_creates_per_user: str = "100000/minute"
    api_creates_per_org: str = "100000/minute"
    api_emergencies_per_user: str = "1000000/day"
    startup_timeout_s: float = 120.0
    keycloak_host: str = "127.0.0.1"
    keycloak_port: int = 8180
    keycloak_management_port: int = 8190
    # The bootstrap admin of the master realm, created on Keycloak's first start only.
    keycloak_admin_password: str = "dev-keycloak-admin"
    # A JDK home tried before the Temurin 25 path, JAVA_HOME and PATH (Keycloak needs 21+).
    keycloak_java_home: Path | None = None
    # The first start builds the server and creates its database: minutes on two cores.
    keycloak_startup_timeout_s: float = 300.0
    # The Fabric network `curex up --ledger fabric` runs: all on this host, TLS on.
    fabric_host: str = "127.0.0.1"
    fabric_orgs: tuple[FabricOrg, ...] = DEFAULT_FABRIC_ORGS
    fabric_orderer_port: int = 7050
    fabric_orderer_admin_port: int = 7053
    fabric_orderer_operations_port: int = 8443
    # Block cutting: written into the channel's genesis block, so they apply to a channel
    # created after they were set.
    fabric_batch_timeout: str = "100ms"
    fabric_max_message_count: int = 100
    # Organisations without a peer -> the member that signs for them (CUREX_LEDGER_HOSTING,
    # JSON); every contract host and the processors get the same network configuration.
    ledger_hosting: dict[str, str] = {}

    @property
    def network(self) -> Network:
        return Network(
            members=tuple(org.msp_id for org in self.fabric_orgs), hosting=self.ledger_hosting
        )

    @property
    def kafka_host(self) -> str:
        return self.kafka_bootstrap.rsplit(":", 1)[0]

    @property
    def kafka_port(self) -> int:
        return int(self.kafka_bootstrap.rsplit(":", 1)[1])

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def config_dir(self) -> Path:
        return self.data_dir / "config"

    @property
    def kafka_data_dir(self) -> Path:
        return self.data_dir / "kafka"

    @property
    def notifications_url(self) -> str:
        return f"ws://127.0.0.1:{self.notifier_port}/v1/notifications"

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.prometheus_port}"

    @property
    def keycloak_url(self) -> str:
        return f"http://{self.keycloak_host}:{self.keycloak_port}"

    @property
    def keycloak_data_dir(self) -> Path:
        return self.data_dir / "keycloak"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def fabric_data_dir(self) -> Path:
        return self.data_dir / "fabric"

    @property
    def supervisor_socket(self) -> Path:
        return self.data_dir / "supervisor.sock"
