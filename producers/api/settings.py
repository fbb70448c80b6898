"""The Applications Server's settings (``CUREX_`` environment variables)."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from service_runtime.settings import PseudonymisingSettings, refuse_weak_secret
from service_runtime.tokens import Issuer

DEV_ADMIN_SECRET = "dev-applications-server-secret"


class LedgerAccess(BaseModel):
    """How the server reads one organisation's Blockchain API: its client and address."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str
    client_secret: SecretStr
    base_url: str


def _dev_ledger_access() -> dict[str, LedgerAccess]:
    return {
        "ES-SERMAS": LedgerAccess(
            client_id="ledger-es-sermas",
            client_secret=SecretStr("dev-ledger-es-sermas-secret"),
            base_url="http://127.0.0.1:8091",
        ),
        "SE-KI": LedgerAccess(
            client_id="ledger-se-ki",
            client_secret=SecretStr("dev-ledger-se-ki-secret"),
            base_url="http://127.0.0.1:8092",
        ),
    }


def _default_frontends_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "frontends" / "dist"


class ApiSettings(PseudonymisingSettings):
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    keycloak_url: str = "http://127.0.0.1:8180"
    users_realm: str = "curex"
    api_audience: str = "applications-server"
    web_client_id: str = "curex-web"
    admin_client_id: str = "applications-server"
    admin_client_secret: str = DEV_ADMIN_SECRET
    # At most this many items per page of GET /v1/transfers.
    list_limit: int = 100
    # Where clients open the notifier's WebSocket (GET /v1/me tells them).
    notifications_url: str = "ws://127.0.0.1:8097/v1/notifications"
    # The stack's Prometheus, which the ops API reads.
    prometheus_url: str = "http://127.0.0.1:9090"
    prometheus_timeout_s: float = 3.0
    database_pool_size: int = 20
    # Moving windows, in the `limits` library's notation ("10/day", "60 per minute").
    creates_per_user: str = "60/minute"
    creates_per_org: str = "600/minute"
    emergencies_per_user: str = "10/day"
    ledger_realm: str = "curex-ledger"
    # Organisation -> its Blockchain API client; CUREX_LEDGER_ACCESS takes JSON.
    ledger_access: dict[str, LedgerAccess] = Field(default_factory=_dev_ledger_access)
    ledger_timeout_s: float = 10.0
    # A cached Blockchain API token is replaced this long before Keycloak's expires_in.
    ledger_token_margin_s: float = 30.0
    # The built web applications (`npm run build` in frontends/).
    frontends_dir: Path = Field(default_factory=lambda: _default_frontends_dir())
    # The identity provider's address as browsers reach it, when it differs from keycloak_url.
    public_keycloak_url: str | None = None

    @property
    def users_issuer(self) -> Issuer:
        return Issuer(f"{self.keycloak_url}/realms/{self.users_realm}", self.api_audience)

    @property
    def web_authority(self) -> str:
        """The realm the web applications sign in with, at the browser's address of Keycloak."""
        return f"{self.public_keycloak_url or self.keycloak_url}/realms/{self.users_realm}"

    @property
    def ledger_token_url(self) -> str:
        return f"{self.keycloak_url}/realms/{self.ledger_realm}/protocol/openid-connect/token"

    @model_validator(mode="after")
    def _refuse_weak_client_secrets(self) -> "ApiSettings":
        refuse_weak_secret("CUREX_ADMIN_CLIENT_SECRET", self.admin_client_secret, self.env)
        for org, access in self.ledger_access.items():
            refuse_weak_secret(
                f"CUREX_LEDGER_ACCESS[{org}].client_secret",
                access.client_secret.get_secret_value(),
                self.env,
            )
        return self
