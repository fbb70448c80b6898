"""The Applications Server's settings (``CUREX_`` environment variables)."""

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from service_runtime.settings import ServiceSettings
from service_runtime.tokens import Issuer

DEV_ADMIN_SECRET = "dev-applications-server-secret"
DEV_LEDGER_SECRETS = frozenset({"dev-ledger-es-sermas-secret", "dev-ledger-se-ki-secret"})


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


class ApiSettings(ServiceSettings):
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
    # The notifier's resume replays the changes of this many of the user's newest transfers.
    replay_transfers: int = 200
    database_pool_size: int = 20
    ledger_realm: str = "curex-ledger"
    # Organisation -> its Blockchain API client; CUREX_LEDGER_ACCESS takes JSON.
    ledger_access: dict[str, LedgerAccess] = Field(default_factory=_dev_ledger_access)
    ledger_timeout_s: float = 10.0
    # A cached Blockchain API token is replaced this long before Keycloak's expires_in.
    ledger_token_margin_s: float = 30.0

    @property
    def users_issuer(self) -> Issuer:
        return Issuer(f"{self.keycloak_url}/realms/{self.users_realm}", self.api_audience)

    @property
    def ledger_token_url(self) -> str:
        return f"{self.keycloak_url}/realms/{self.ledger_realm}/protocol/openid-connect/token"

    @model_validator(mode="after")
    def _refuse_dev_admin_secret_outside_dev(self) -> "ApiSettings":
        if self.env == "prod" and self.admin_client_secret == DEV_ADMIN_SECRET:
            raise ValueError("CUREX_ADMIN_CLIENT_SECRET must be set outside dev")
        return self

    @model_validator(mode="after")
    def _refuse_dev_ledger_secrets_outside_dev(self) -> "ApiSettings":
        if self.env == "prod":
            for org, access in self.ledger_access.items():
                if access.client_secret.get_secret_value() in DEV_LEDGER_SECRETS:
                    raise ValueError(f"CUREX_LEDGER_ACCESS: the secret of {org} is a dev secret")
        return self
