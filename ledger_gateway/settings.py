"""The ledger gateway's settings (``CUREX_`` environment variables).

One gateway per member organisation (``CUREX_GATEWAY_ORG``): it signs with that
organisation's identity only, reads that organisation's command topic, and publishes the
transactions it signed.
"""

from pathlib import Path
from typing import Literal

from ledger_gateway.fabric.connection import FabricConnection
from service_runtime.settings import ServiceSettings
from service_runtime.tokens import Issuer


class GatewaySettings(ServiceSettings):
    ledger: Literal["embedded", "fabric"] = "embedded"
    ledger_gateway_port: int = 8091
    gateway_max_batch: int = 500
    # How long a thread may hold the GIL while another waits for it (Python's default is
    # 5 ms). The ledger's worker threads and the event loop take turns: each turn a commit
    # or a Kafka delivery waited for was up to that long.
    gateway_switch_interval_s: float = 0.0005
    gateway_org: str = "ES-SERMAS"
    # The embedded ledger: this organisation's Ed25519 signing key (PEM), and the members'
    # registered public keys (JSON: org -> base64); `curex up` generates both.
    gateway_signing_key: Path | None = None
    ledger_members_file: Path | None = None
    keycloak_url: str = "http://127.0.0.1:8180"
    ledger_realm: str = "curex-ledger"
    ledger_audience: str = "blockchain-api"
    # With CUREX_LEDGER=fabric: every member's peer, with this organisation's client
    # identity only (JSON), and the channel the workflow's transfers live on.
    fabric_connections: tuple[FabricConnection, ...] = ()
    fabric_channel: str = "curex"

    @property
    def slug(self) -> str:
        return self.gateway_org.lower()

    @property
    def group_id(self) -> str:
        return f"curex-ledger-gateway-{self.slug}"

    @property
    def instance_id(self) -> str:
        return f"curex-ledger-gateway-{self.slug}-1"

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
    def members_file(self) -> Path:
        return self.ledger_members_file or self.ledger_dir / "members.json"

    @property
    def legacy_checkpoint_path(self) -> Path:
        """Where the one gateway that published for every organisation kept its place."""
        name = "published" if self.ledger == "embedded" else f"published-{self.ledger}"
        return self.ledger_dir / f"{name}.checkpoint"

    @property
    def checkpoint_path(self) -> Path:
        # One per ledger kind and organisation: positions of one ledger mean nothing on
        # the other, and each gateway publishes only what its organisation signed.
        return self.ledger_dir / f"published-{self.ledger}-{self.slug}.checkpoint"
