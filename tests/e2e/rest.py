"""A REST client for end-to-end tests: real Keycloak tokens, polling with a deadline."""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from schemas import TransferState

KEYCLOAK = "http://127.0.0.1:8180"
API = "http://127.0.0.1:8080"
DEMO_PASSWORD = "demo-password"


async def user_token(username: str, password: str = DEMO_PASSWORD, realm: str = "curex") -> str:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{KEYCLOAK}/realms/{realm}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "curex-web",
                "username": username,
                "password": password,
            },
        )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


async def client_token(client_id: str, secret: str, realm: str = "curex-ledger") -> str:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{KEYCLOAK}/realms/{realm}/protocol/openid-connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


class Api:
    """One user's view of the Applications Server."""

    def __init__(self, token: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(base_url=API, headers=headers, timeout=30)

    async def close(self) -> None:
        await self.http.aclose()

    async def create(
        self, *, emergency: bool, patient_id: str = "ES-1000001", source_org: str = "ES-SERMAS"
    ) -> str:
        response = await self.http.post(
            "/v1/transfers",
            json={
                "patient_id": patient_id,
                "source_org": source_org,
                "emergency": emergency,
                "reason": "continuity of care",
            },
        )
        assert response.status_code == 202, response.text
        transfer_id: str = response.json()["transfer_id"]
        return transfer_id

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post(path, json=body)

    async def wait_state(
        self, transfer_id: str, state: TransferState, within: float = 60
    ) -> dict[str, Any]:
        return await self.wait_until(transfer_id, lambda t: t["state"] == state.value, within)

    async def wait_until(
        self, transfer_id: str, done: Callable[[dict[str, Any]], bool], within: float = 60
    ) -> dict[str, Any]:
        """Poll the transfer until ``done`` holds; fail with what it showed last."""
        deadline = time.monotonic() + within
        last: dict[str, Any] | int = 0
        while time.monotonic() < deadline:
            response = await self.http.get(f"/v1/transfers/{transfer_id}")
            if response.status_code == 200:
                last = response.json()
                if done(last):
                    return last
            else:
                last = response.status_code
            await asyncio.sleep(0.05)  # polling interval of a deadline-bounded poll
        raise AssertionError(f"{transfer_id} did not get there; last seen {last}")
