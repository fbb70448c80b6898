"""REST helpers for end-to-end tests, on top of the project's own client."""

from typing import Any

import httpx

from curex.rest_client import ApplicationsClient, client_credentials_token, password_token

KEYCLOAK = "http://127.0.0.1:8180"
API = "http://127.0.0.1:8080"
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
        self, *, emergency: bool, patient_id: str = "ES-1000001", source_org: str = "ES-SERMAS"
    ) -> str:
        return await super().create(
            patient_id=patient_id, source_org=source_org, emergency=emergency
        )

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post(path, json=body)
