"""The Blockchain API of each organisation, and the Applications Server reading it.

A transfer made through the REST API shows on both instances (ES-SERMAS on 8091, the
writer; SE-KI on 8092, a reader) exactly as the read model's history says: the same
transaction ids in the same blocks. The Applications Server's
``GET /v1/transfers/{id}/ledger`` returns the caller's organisation's ledger record,
with a client-credentials token it reuses, and 503 when that Blockchain API is down.
"""

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest

from curex.block_watch import BlockWatcher
from curex.demo import seed_demo_organisations
from curex.stack_settings import api_settings
from infra.secrets import client_secret
from infra.settings import InfraSettings
from producers.api.ledger_client import BlockchainApi, LedgerTokens, LedgerUnavailable
from producers.api.settings import LedgerAccess
from producers.publisher import CommandPublisher
from schemas import TransferState
from tests.e2e.rest import LEDGER_GATEWAYS, Api, client_token, in_process_api, user_token

pytestmark = pytest.mark.integration

INSTANCES = {
    "ES-SERMAS": (LEDGER_GATEWAYS["ES-SERMAS"], "ledger-es-sermas"),
    "SE-KI": (LEDGER_GATEWAYS["SE-KI"], "ledger-se-ki"),
}
# Verifying the whole chain reads every block: give it time on a long-lived ledger.
VERIFY_TIMEOUT_S = 300


@dataclass(frozen=True)
class Made:
    """An emergency transfer at DATA_AVAILABLE and the read model's history of it."""

    transfer_id: str
    history: list[dict[str, Any]]

    @property
    def ledger_entries(self) -> list[tuple[str, int]]:
        return [(h["tx_id"], h["block_number"]) for h in self.history]


@pytest.fixture(scope="module")
async def made(
    stack: InfraSettings, publisher: CommandPublisher, watcher: BlockWatcher
) -> AsyncIterator[Made]:
    await seed_demo_organisations(publisher, watcher)
    doctor = Api(await user_token("doctor.ki"))
    try:
        transfer_id = await doctor.create(emergency=True)
        await doctor.wait_state(transfer_id, TransferState.DATA_AVAILABLE)
        response = await doctor.http.get(f"/v1/transfers/{transfer_id}/history")
        assert response.status_code == 200, response.text
        yield Made(transfer_id, response.json())
    finally:
        await doctor.close()


@pytest.fixture(scope="module")
async def ledgers(stack: InfraSettings) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clients = {
        org: httpx.AsyncClient(
            base_url=base_url,
            headers={
                "Authorization": "Bearer "
                + await client_token(client_id, client_secret(stack, client_id))
            },
            timeout=30,
        )
        for org, (base_url, client_id) in INSTANCES.items()
    }
    yield clients
    for client in clients.values():
        await client.aclose()


async def ledger_shows(
    ledger: httpx.AsyncClient, transfer_id: str, state: TransferState, within: float = 30
) -> dict[str, Any]:
    """Poll one instance until it shows the transfer in ``state`` (a reader may lag)."""
    deadline = time.monotonic() + within
    last: object = None
    while time.monotonic() < deadline:
        response = await ledger.get(f"/v1/ledger/transfers/{transfer_id}")
        last = response.status_code, response.text
        if response.status_code == 200 and response.json()["state"] == state.value:
            found: dict[str, Any] = response.json()
            return found
        await asyncio.sleep(0.05)  # polling interval of a deadline-bounded poll
    raise AssertionError(f"{transfer_id} not {state} on the ledger; last seen {last}")


@pytest.mark.parametrize("org", list(INSTANCES))
async def test_each_instance_holds_the_transfer_as_the_read_model_shows_it(
    made: Made, ledgers: dict[str, httpx.AsyncClient], org: str
) -> None:
    ledger = ledgers[org]
    transfer = await ledger_shows(ledger, made.transfer_id, TransferState.DATA_AVAILABLE)
    assert transfer["transfer_id"] == made.transfer_id
    assert (transfer["requesting_org"], transfer["source_org"]) == ("SE-KI", "ES-SERMAS")
    assert transfer["emergency"]
    assert transfer["review_required"]
    response = await ledger.get(f"/v1/ledger/transfers/{made.transfer_id}/history")
    assert response.status_code == 200, response.text
    history = response.json()
    assert [(h["tx_id"], h["block_number"]) for h in history] == made.ledger_entries
    assert [h["transition"]["to_state"] for h in history] == [h["to_state"] for h in made.history]


@pytest.mark.parametrize("org", list(INSTANCES))
async def test_each_block_of_the_history_lists_its_transaction(
    made: Made, ledgers: dict[str, httpx.AsyncClient], org: str
) -> None:
    for tx_id, number in made.ledger_entries:
        response = await ledgers[org].get(f"/v1/ledger/blocks/{number}")
        assert response.status_code == 200, response.text
        block = response.json()
        assert block["number"] == number
        assert tx_id in block["tx_ids"]
        assert block["hash"]
        assert block["previous_hash"]


@pytest.mark.parametrize("org", list(INSTANCES))
async def test_each_instance_verifies_the_chain(
    ledgers: dict[str, httpx.AsyncClient], org: str
) -> None:
    response = await ledgers[org].get("/v1/ledger/verify", timeout=VERIFY_TIMEOUT_S)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["ok"], report
    assert report["blocks_checked"] > 0


@pytest.mark.parametrize("org", list(INSTANCES))
async def test_unknown_transfers_and_blocks_are_404(
    ledgers: dict[str, httpx.AsyncClient], org: str
) -> None:
    ledger = ledgers[org]
    for path in (
        "/v1/ledger/transfers/tr-never-made",
        "/v1/ledger/transfers/tr-never-made/history",
        f"/v1/ledger/blocks/{10**12}",
    ):
        response = await ledger.get(path)
        assert response.status_code == 404, (path, response.text)


# ---- the Applications Server as a client of the Blockchain API ---------------------


@pytest.mark.parametrize(
    ("username", "org"),
    [("doctor.ki", "SE-KI"), ("doctor.sermas", "ES-SERMAS"), ("patient.es", "ES-SERMAS")],
)
async def test_a_party_gets_its_own_organisations_ledger_record(
    made: Made, username: str, org: str
) -> None:
    api = Api(await user_token(username))
    try:
        response = await api.http.get(f"/v1/transfers/{made.transfer_id}/ledger")
        read_model = (await api.http.get(f"/v1/transfers/{made.transfer_id}")).json()
    finally:
        await api.close()
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["ledger_of"] == org
    assert record["transfer"]["transfer_id"] == made.transfer_id
    assert record["transfer"]["state"] == read_model["state"]
    assert [(h["tx_id"], h["block_number"]) for h in record["history"]] == made.ledger_entries


async def test_the_ledger_route_keeps_the_rules_of_the_transfer_routes(made: Made) -> None:
    stranger = Api(await user_token("patient.se"))
    doctor = Api(await user_token("doctor.ki"))
    anonymous = Api(None)
    try:
        path = f"/v1/transfers/{made.transfer_id}/ledger"
        assert (await stranger.http.get(path)).status_code == 403
        assert (await anonymous.http.get(path)).status_code == 401
        assert (await doctor.http.get("/v1/transfers/tr-never-made/ledger")).status_code == 404
    finally:
        for api in (stranger, doctor, anonymous):
            await api.close()


def token_requests(metrics: str, org: str) -> float:
    prefix = f'curex_api_ledger_token_requests_total{{org="{org}"}} '
    return sum(
        float(line.removeprefix(prefix)) for line in metrics.splitlines() if line.startswith(prefix)
    )


async def test_the_running_server_reuses_its_ledger_token(made: Made) -> None:
    doctor = Api(await user_token("doctor.ki"))
    try:
        path = f"/v1/transfers/{made.transfer_id}/ledger"
        assert (await doctor.http.get(path)).status_code == 200  # a token is cached now
        before = token_requests((await doctor.http.get("/metrics")).text, "SE-KI")
        for _ in range(5):
            assert (await doctor.http.get(path)).status_code == 200
        after = token_requests((await doctor.http.get("/metrics")).text, "SE-KI")
    finally:
        await doctor.close()
    assert before >= 1
    # At most one refresh, should the cached token's refresh time fall inside the five.
    assert after - before <= 1


async def test_the_token_cache_refreshes_only_near_expiry(stack: InfraSettings) -> None:
    settings = api_settings(stack)
    clock = FakeClock()
    async with httpx.AsyncClient(timeout=30) as http:
        tokens = LedgerTokens(
            http, settings.ledger_token_url, settings.ledger_access, margin_s=30, clock=clock
        )
        first = await tokens.token("SE-KI")
        claims = jwt.decode(first, options={"verify_signature": False})
        lifespan = claims["exp"] - claims["iat"]
        assert claims["org"] == "SE-KI"
        assert await tokens.token("SE-KI") == first
        # Keycloak's expires_in counts from its answer, which may come a second or more after
        # the token's iat on a loaded machine: the cache may refresh up to that much earlier.
        answer_slack_s = 5
        clock.now += lifespan - 30 - answer_slack_s
        assert await tokens.token("SE-KI") == first
        assert tokens.requests == 1
        clock.now += answer_slack_s + 1
        await tokens.token("SE-KI")
        assert tokens.requests == 2
        await tokens.token("ES-SERMAS")
        assert tokens.requests == 3


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def dead_address() -> Iterator[str]:
    """An address that refuses connections: a bound socket that never listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_an_unreachable_blockchain_api_or_keycloak_is_ledger_unavailable(
    stack: InfraSettings, dead_address: str
) -> None:
    settings = api_settings(stack)
    down = {"SE-KI": settings.ledger_access["SE-KI"].model_copy(update={"base_url": dead_address})}
    async with httpx.AsyncClient(timeout=30) as http:
        api = BlockchainApi(http, down, LedgerTokens(http, settings.ledger_token_url, down))
        with pytest.raises(LedgerUnavailable, match="Blockchain API of SE-KI"):
            await api.record("SE-KI", "tr-any")
        with pytest.raises(LedgerUnavailable, match="no Blockchain API is configured for XX"):
            await api.record("XX", "tr-any")
        no_keycloak = LedgerTokens(http, f"{dead_address}/token", down)
        with pytest.raises(LedgerUnavailable, match="no ledger token for SE-KI"):
            await no_keycloak.token("SE-KI")


async def test_the_server_answers_503_with_a_reason_when_the_ledger_is_down(
    made: Made, dead_address: str, stack: InfraSettings
) -> None:
    settings = api_settings(stack)
    ledger_access = {
        **settings.ledger_access,
        "SE-KI": LedgerAccess(
            client_id="ledger-se-ki",
            client_secret=settings.ledger_access["SE-KI"].client_secret,
            base_url=dead_address,
        ),
    }
    async with in_process_api(
        settings.model_copy(update={"ledger_access": ledger_access}), await user_token("doctor.ki")
    ) as http:
        response = await http.get(f"/v1/transfers/{made.transfer_id}/ledger")
    assert response.status_code == 503, response.text
    assert "Blockchain API of SE-KI is unavailable" in response.json()["detail"]
    assert response.headers["Retry-After"]
