"""The Applications Server's settings (``CUREX_`` environment variables)."""

from pydantic import model_validator

from infra.runtime_settings import ServiceSettings
from producers.auth.tokens import Issuer

DEV_ADMIN_SECRET = "dev-applications-server-secret"


class ApiSettings(ServiceSettings):
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    keycloak_url: str = "http://127.0.0.1:8180"
    users_realm: str = "curex"
    api_audience: str = "applications-server"
    web_client_id: str = "curex-web"
    admin_client_id: str = "applications-server"
    admin_client_secret: str = DEV_ADMIN_SECRET
    list_limit: int = 200

    @property
    def users_issuer(self) -> Issuer:
        return Issuer(f"{self.keycloak_url}/realms/{self.users_realm}", self.api_audience)

    @model_validator(mode="after")
    def _refuse_dev_admin_secret_outside_dev(self) -> "ApiSettings":
        if self.env == "prod" and self.admin_client_secret == DEV_ADMIN_SECRET:
            raise ValueError("CUREX_ADMIN_CLIENT_SECRET must be set outside dev")
        return self
