"""The Blockchain API as the Applications Server reads it, one organisation at a time.

Each organisation's API is called with that organisation's token from the ``curex-ledger``
realm (client credentials), cached and reused until shortly before it expires.

Failures are ``LedgerUnavailable`` (retriable) or ``LedgerRecordMissing`` from
``producers.errors``.
"""

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from prometheus_client import Counter
from pydantic import ValidationError

from producers.api.settings import ApiSettings, LedgerAccess
from producers.errors import LedgerRecordMissing, LedgerUnavailable
from schemas import LedgerHistoryItem, Transfer
from schemas.envelope import Message

TOKEN_REQUESTS = Counter(
    "curex_api_ledger_token_requests_total",
    "Client-credentials token requests the server made for a Blockchain API",
    ["org"],
)


class LedgerRecord(Message):
    """A transfer and its transitions as one organisation's ledger records them."""

    ledger_of: str
    transfer: Transfer
    history: tuple[LedgerHistoryItem, ...]


@dataclass(frozen=True, slots=True)
class _CachedToken:
    value: str
    refresh_at: float  # on the cache's clock


class LedgerTokens:
    """Client-credentials tokens per organisation, reused until ``margin_s`` before expiry."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        token_url: str,
        access: Mapping[str, LedgerAccess],
        margin_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._token_url = token_url
        self._access = access
        self._margin = margin_s
        self._clock = clock
        self._cache: dict[str, _CachedToken] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.requests = 0  # token requests made, for operators and tests

    async def token(self, org: str) -> str:
        cached = self._fresh(org)
        if cached is not None:
            return cached
        # One request per organisation at a time: concurrent callers share its answer.
        async with self._locks.setdefault(org, asyncio.Lock()):
            cached = self._fresh(org)
            if cached is not None:
                return cached
            token = await self._request(org)
            self._cache[org] = token
            return token.value

    def forget(self, org: str) -> None:
        """Drop a token the API refused (revoked, or signed with a rotated key)."""
        self._cache.pop(org, None)

    def _fresh(self, org: str) -> str | None:
        cached = self._cache.get(org)
        if cached is not None and self._clock() < cached.refresh_at:
            return cached.value
        return None

    async def _request(self, org: str) -> _CachedToken:
        access = _access_of(self._access, org)
        asked_at = self._clock()
        self.requests += 1
        TOKEN_REQUESTS.labels(org).inc()
        try:
            response = await self._http.post(
                self._token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": access.client_id,
                    "client_secret": access.client_secret.get_secret_value(),
                },
            )
        except httpx.HTTPError as error:
            raise LedgerUnavailable(f"no ledger token for {org}: {_describe(error)}") from error
        if response.status_code != httpx.codes.OK:
            raise LedgerUnavailable(
                f"no ledger token for {org}: Keycloak answered {response.status_code}"
            )
        try:
            body = response.json()
            value, expires_in = str(body["access_token"]), float(body["expires_in"])
        except (ValueError, KeyError, TypeError) as error:
            raise LedgerUnavailable(f"no ledger token for {org}: unexpected answer") from error
        return _CachedToken(value, asked_at + max(0.0, expires_in - self._margin))


class BlockchainApi:
    """Reads from the Blockchain API instance of a given organisation."""

    def __init__(
        self, http: httpx.AsyncClient, access: Mapping[str, LedgerAccess], tokens: LedgerTokens
    ) -> None:
        self._http = http
        self._access = access
        self.tokens = tokens

    @classmethod
    def from_settings(cls, http: httpx.AsyncClient, settings: ApiSettings) -> "BlockchainApi":
        tokens = LedgerTokens(
            http, settings.ledger_token_url, settings.ledger_access, settings.ledger_token_margin_s
        )
        return cls(http, settings.ledger_access, tokens)

    async def transfer(self, org: str, transfer_id: str) -> Transfer:
        """The transfer alone, as ``org``'s ledger holds it now."""
        body = await self._get(org, f"/v1/ledger/transfers/{quote(transfer_id, safe='')}")
        try:
            return Transfer.model_validate(body)
        except ValidationError as error:
            raise LedgerUnavailable(
                f"the Blockchain API of {org} answered with an unexpected transfer"
            ) from error

    async def record(self, org: str, transfer_id: str) -> LedgerRecord:
        """The transfer as ``org``'s ledger holds it, then its history (read second, so it
        covers at least the state shown)."""
        path = f"/v1/ledger/transfers/{quote(transfer_id, safe='')}"
        transfer = await self._get(org, path)
        history = await self._get(org, f"{path}/history")
        try:
            return LedgerRecord(
                ledger_of=org,
                transfer=Transfer.model_validate(transfer),
                history=tuple(LedgerHistoryItem.model_validate(item) for item in history),
            )
        except (ValidationError, TypeError) as error:
            raise LedgerUnavailable(
                f"the Blockchain API of {org} answered with an unexpected record"
            ) from error

    async def _get(self, org: str, path: str) -> Any:
        response = await self._send(org, path)
        if response.status_code == httpx.codes.UNAUTHORIZED:
            self.tokens.forget(org)
            response = await self._send(org, path)
        if response.status_code == httpx.codes.NOT_FOUND:
            raise LedgerRecordMissing(f"the ledger of {org} has no record at {path}")
        if response.status_code != httpx.codes.OK:
            raise LedgerUnavailable(
                f"the Blockchain API of {org} answered {response.status_code}: "
                f"{response.text[:200]}"
            )
        try:
            return response.json()
        except ValueError as error:
            raise LedgerUnavailable(f"the Blockchain API of {org} answered non-JSON") from error

    async def _send(self, org: str, path: str) -> httpx.Response:
        access = _access_of(self._access, org)
        token = await self.tokens.token(org)
        try:
            return await self._http.get(
                f"{access.base_url}{path}", headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as error:
            raise LedgerUnavailable(
                f"the Blockchain API of {org} is unavailable: {_describe(error)}"
            ) from error


def _access_of(access: Mapping[str, LedgerAccess], org: str) -> LedgerAccess:
    try:
        return access[org]
    except KeyError:
        raise LedgerUnavailable(f"no Blockchain API is configured for {org}") from None


def _describe(error: httpx.HTTPError) -> str:
    return f"{type(error).__name__} {error}".strip()
