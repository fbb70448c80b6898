"""REST helpers for end-to-end tests, on top of the project's own client."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from curex.rest_client import ApplicationsClient, client_credentials_token, password_token
from infra.settings import InfraSettings
from producers.api.app import create_app
from producers.api.settings import ApiSettings

_STACK = InfraSettings()
KEYCLOAK = _STACK.keycloak_url
API = f"http://127.0.0.1:{_STACK.api_port}"
WS_NOTIFICATIONS = _STACK.notifications_url
LEDGER_GATEWAYS = {
    "ES-SERMAS": f"http://127.0.0.1:{_STACK.ledger_gateway_port}",
    "SE-KI": f"http://127.0.0.1:{_STACK.ledger_gateway_se_ki_port}",
}
DEMO_PASSWORD = "demo-password"


async def user_token(username: str, password: str = DEMO_PASSWORD, realm: str = "curex") -> str:
    return await password_token(KEYCLOAK, username, password, realm)


async def client_token(client_id: str, secret: str, realm: str = "curex-ledger") -> str:
    return await client_credentials_token(KEYCLOAK, client_id, secret, realm)


class Api(ApplicationsClient):
    """One user's view of the Applications Server, with the test's defaults."""

    def __init__(self, token: str | None) -> None:
        super().__init__(API, token)

    async def create(  # type: ignore[override]
        self,
        *,
        emergency: bool,
        patient_id: str = "ES-1000001",
        source_org: str = "ES-SERMAS",
        note: str | None = None,
    ) -> str:
        return await super().create(
            patient_id=patient_id, source_org=source_org, emergency=emergency, note=note
        )

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post(path, json=body)


@asynccontextmanager
async def in_process_api(settings: ApiSettings, token: str) -> AsyncIterator[httpx.AsyncClient]:
    """An Applications Server of its own in this process (on the real services), for a test
    that needs other settings than the running one's."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=API,
            headers={"Authorization": f"Bearer {token}"},
        ) as http,
    ):
        yield http
