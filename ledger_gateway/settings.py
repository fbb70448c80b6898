"""The ledger gateway's settings (``CUREX_`` environment variables)."""

from pathlib import Path
from typing import Literal

from ledger_gateway.fabric.connection import FabricConnection
from service_runtime.settings import ServiceSettings
from service_runtime.tokens import Issuer


class GatewaySettings(ServiceSettings):
    ledger: Literal["embedded", "fabric"] = "embedded"
    ledger_gateway_port: int = 8091
    gateway_group_id: str = "curex-ledger-gateway"
    gateway_instance_id: str = "curex-ledger-gateway-1"
    gateway_max_batch: int = 500
    gateway_org: str = "ES-SERMAS"
    # One SQLite ledger has one writer; the other organisations' instances serve reads.
    gateway_writer: bool = True
    keycloak_url: str = "http://127.0.0.1:8180"
    ledger_realm: str = "curex-ledger"
    ledger_audience: str = "blockchain-api"
    # With CUREX_LEDGER=fabric: each member's peer and client identity (JSON), and the
    # channel the workflow's transfers live on.
    fabric_connections: tuple[FabricConnection, ...] = ()
    fabric_channel: str = "curex"

    @property
    def ledger_issuer(self) -> Issuer:
        return Issuer(f"{self.keycloak_url}/realms/{self.ledger_realm}", self.ledger_audience)

    @property
    def ledger_dir(self) -> Path:
        return self.data_dir / "ledger"

    @property
    def ledger_path(self) -> Path:
        return self.ledger_dir / "embedded.sqlite"

    @property
    def checkpoint_path(self) -> Path:
        # One per ledger kind: block positions of one ledger mean nothing on the other.
        name = "published" if self.ledger == "embedded" else f"published-{self.ledger}"
        return self.ledger_dir / f"{name}.checkpoint"
