"""A small client of the Applications Server for the demo, benchmarks and tests.

Logs users in at Keycloak (the direct grant the demo client allows) and waits for a
transfer to reach a state by polling with a deadline: a 202 means "accepted", the
change is done when the ledger has committed it.
"""

import asyncio
import time
from collections.abc import Callable
from typing import Any, Self

import httpx

from curex.errors import ApiError
from schemas import TransferState

Transfer = dict[str, Any]


async def password_token(
    keycloak_url: str,
    username: str,
    password: str,
    realm: str = "curex",
    client_id: str = "curex-web",
) -> str:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{keycloak_url}/realms/{realm}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": client_id,
                "username": username,
                "password": password,
            },
        )
    if response.status_code != 200:
        raise ApiError(f"login of {username} failed: {response.status_code} {response.text}")
    token: str = response.json()["access_token"]
    return token


async def client_credentials_token(
    keycloak_url: str, client_id: str, secret: str, realm: str = "curex-ledger"
) -> str:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{keycloak_url}/realms/{realm}/protocol/openid-connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
    if response.status_code != 200:
        raise ApiError(f"token for {client_id} refused: {response.status_code}")
    token: str = response.json()["access_token"]
    return token


def reached(transfer: Transfer, state: TransferState) -> bool:
    return transfer["state"] == state.value or any(
        entry["to_state"] == state.value for entry in transfer.get("history", [])
    )


class ApplicationsClient:
    """One signed-in user's view of the Applications Server."""

    def __init__(self, base_url: str, token: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.http.aclose()

    async def create(
        self,
        *,
        patient_id: str,
        source_org: str,
        emergency: bool,
        purpose: str | None = None,
        note: str | None = None,
    ) -> str:
        """Asks ``source_org`` for the patient's records; the purpose of use is ETREAT for an
        emergency and COC (coordination of care) otherwise, unless given."""
        response = await self.http.post(
            "/v1/transfers",
            json={
                "patient_id": patient_id,
                "source_org": source_org,
                "emergency": emergency,
                "purpose": purpose or ("ETREAT" if emergency else "COC"),
                **({} if note is None else {"note": note}),
            },
        )
        if response.status_code != 202:
            raise ApiError(f"create refused: {response.status_code} {response.text}")
        transfer_id: str = response.json()["transfer_id"]
        return transfer_id

    async def act(self, transfer_id: str, action: str, body: dict[str, str] | None = None) -> None:
        response = await self.http.post(f"/v1/transfers/{transfer_id}/{action}", json=body)
        if response.status_code != 202:
            raise ApiError(f"{action} refused: {response.status_code} {response.text}")

    async def history(self, transfer_id: str) -> list[dict[str, Any]]:
        response = await self.http.get(f"/v1/transfers/{transfer_id}/history")
        response.raise_for_status()
        history: list[dict[str, Any]] = response.json()
        return history

    async def ledger_record(self, transfer_id: str) -> dict[str, Any]:
        """The transfer as the caller's organisation's Blockchain API reads it."""
        response = await self.http.get(f"/v1/transfers/{transfer_id}/ledger")
        response.raise_for_status()
        record: dict[str, Any] = response.json()
        return record

    async def wait_state(
        self, transfer_id: str, state: TransferState, within: float = 60
    ) -> Transfer:
        """Wait until the transfer has been in ``state`` (it may have moved on since)."""
        return await self.wait_until(transfer_id, lambda t: reached(t, state), within)

    async def wait_until(
        self, transfer_id: str, done: Callable[[Transfer], bool], within: float = 60
    ) -> Transfer:
        """Poll the transfer until ``done`` holds; fail with what it showed last."""
        deadline = time.monotonic() + within
        last: Transfer | int = 0
        while time.monotonic() < deadline:
            response = await self.http.get(f"/v1/transfers/{transfer_id}")
            if response.status_code == 200:
                transfer: Transfer = response.json()
                if done(transfer):
                    return transfer
                last = transfer
            else:
                last = response.status_code
            await asyncio.sleep(0.05)  # the interval of a deadline-bounded poll
        raise ApiError(f"{transfer_id} did not get there within {within:g} s; last: {last}")
