"""Schemathesis against the published OpenAPI with real tokens: no input gives a 5xx.

Every operation is fuzzed as doctor.ki and again as patient.es, so patient-only routes
get calls from the right role too. Path parameters are drawn partly from transfers
created for this module, so the authorisation and state checks run, not only the 404.
The case count is checked by the last test: the acceptance bar is 1,000 cases.
"""

import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.schemas import OpenApiSchema

from curex.block_watch import BlockWatcher
from curex.bus import open_bus
from curex.demo import seed_demo_organisations
from infra.settings import InfraSettings
from schemas import TransferState
from tests.e2e.rest import API, DEMO_PASSWORD, KEYCLOAK, Api, user_token

pytestmark = pytest.mark.integration

MIN_CASES = 1000
# Generated cases per operation and user, on top of Schemathesis' coverage phase.
EXAMPLES = {"doctor.ki": 60, "patient.es": 30}
# Access tokens of the realm live 300 s; a run may take longer.
TOKEN_REFRESH_S = 240.0
FUZZ_SETTINGS = {
    "deadline": None,
    # Real HTTP round trips through Kafka are slow for Hypothesis' taste; that is the point.
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}

cases: Counter[str] = Counter()
# Random current passwords there are logins that fail: the realm's brute-force detection
# would lock the fuzzing users out. test_password_change covers that route.
schema = schemathesis.pytest.from_fixture("api_schema").exclude(
    path="/v1/me/password", method="POST"
)


class TokenSource:
    """A user's access token, fetched again before the realm's lifespan runs out."""

    def __init__(self, username: str) -> None:
        self.username = username
        self._token = ""
        self._fetched_at = float("-inf")

    def headers(self) -> dict[str, str]:
        if time.monotonic() - self._fetched_at > TOKEN_REFRESH_S:
            response = httpx.post(
                f"{KEYCLOAK}/realms/curex/protocol/openid-connect/token",
                data={
                    "grant_type": "password",
                    "client_id": "curex-web",
                    "username": self.username,
                    "password": DEMO_PASSWORD,
                },
                timeout=30,
            )
            response.raise_for_status()
            self._token = response.json()["access_token"]
            self._fetched_at = time.monotonic()
        return {"Authorization": f"Bearer {self._token}"}


async def _languages(usernames: list[str]) -> dict[str, str]:
    found = {}
    for username in usernames:
        api = Api(await user_token(username))
        try:
            found[username] = (await api.http.get("/v1/me")).json()["language"]
        finally:
            await api.close()
    return found


async def _seed(stack: InfraSettings) -> None:
    """With Kafka clients of its own, closed again: the fuzzing below is synchronous and
    keeps the session's event loop (and any client on it) idle for minutes."""
    async with open_bus(stack) as bus, BlockWatcher(bus.observer) as watcher:
        await seed_demo_organisations(bus.publisher, watcher)


@pytest.fixture(scope="module")
async def fuzz_transfers(stack: InfraSettings) -> AsyncIterator[list[str]]:
    """A normal and an emergency transfer of the demo patient, for path parameters.

    The fuzzing changes the demo users' languages; they are put back afterwards.
    """
    await _seed(stack)
    languages = await _languages(list(EXAMPLES))
    doctor = Api(await user_token("doctor.ki"))
    try:
        normal = await doctor.create(emergency=False)
        emergency = await doctor.create(emergency=True)
        await doctor.wait_state(normal, TransferState.RISK_ACCEPTED)
        await doctor.wait_state(emergency, TransferState.DATA_AVAILABLE)
    finally:
        await doctor.close()
    yield [normal, emergency]
    for username, language in languages.items():
        api = Api(await user_token(username))
        try:
            await api.http.patch("/v1/me/preferences", json={"language": language})
        finally:
            await api.close()


@pytest.fixture(scope="module")
def api_schema(fuzz_transfers: list[str]) -> OpenApiSchema:
    loaded = schemathesis.openapi.from_url(f"{API}/openapi.json")

    @loaded.hook
    def flatmap_path_parameters(_: Any, path_parameters: dict[str, Any] | None) -> Any:
        if not path_parameters or "transfer_id" not in path_parameters:
            return st.just(path_parameters)
        generated = path_parameters["transfer_id"]
        return st.sampled_from([generated, *fuzz_transfers]).map(
            lambda transfer_id: {**path_parameters, "transfer_id": transfer_id}
        )

    return loaded


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """pytest 9.2 dropped ``Node._nodeid``, which Schemathesis' lazy loader reads and sets
    to name each operation's subtest; give it the attribute back (the node id itself stays).
    """
    vars(request.node).setdefault("_nodeid", request.node.nodeid)


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


@pytest.fixture(scope="module")
def doctor_ki() -> TokenSource:
    return TokenSource("doctor.ki")


@pytest.fixture(scope="module")
def patient_es() -> TokenSource:
    return TokenSource("patient.es")


def _call(case: Case, user: TokenSource, session: requests.Session) -> None:
    response = case.call(session=session, headers=user.headers(), timeout=30)
    cases[user.username] += 1
    case.validate_response(response, checks=[not_a_server_error])


@schema.parametrize()
@settings(max_examples=EXAMPLES["doctor.ki"], **FUZZ_SETTINGS)
def test_no_server_error_as_doctor(
    case: Case, doctor_ki: TokenSource, session: requests.Session
) -> None:
    _call(case, doctor_ki, session)


@schema.parametrize()
@settings(max_examples=EXAMPLES["patient.es"], **FUZZ_SETTINGS)
def test_no_server_error_as_patient(
    case: Case, patient_es: TokenSource, session: requests.Session
) -> None:
    _call(case, patient_es, session)


def test_at_least_a_thousand_cases_were_sent() -> None:
    """Runs after the two above (module order); the acceptance bar counts their cases."""
    assert sum(cases.values()) >= MIN_CASES, dict(cases)
