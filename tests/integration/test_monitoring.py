"""Monitoring against the real stack: every service's /metrics (the project's own and the
infrastructure's exporters) parses and moves with traffic, the stack's Prometheus scrapes
every one, its rules pass promtool, and a stopped service's or exporter's alert, and a burst
of failed sign-ins' alert, fire within the rules' windows."""

import asyncio
import json
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from curex.block_watch import BlockWatcher
from curex.demo import seed_demo_organisations
from infra.progress import SilentProgress
from infra.prometheus.install import ensure_prometheus, promtool_binary
from infra.prometheus.server import RULES
from infra.services import service_registry
from infra.settings import InfraSettings
from infra.supervision import Supervisor
from infra.testing import ensure_stack
from producers.publisher import CommandPublisher
from schemas import TransferState
from tests.e2e.rest import Api, user_token

pytestmark = pytest.mark.integration


def _promtool() -> Path:
    ensure_prometheus(SilentProgress())
    tool = promtool_binary()
    assert tool is not None
    return tool


def test_the_rules_are_valid_and_each_alert_fires_when_it_should() -> None:
    tool = _promtool()
    checked = subprocess.run(
        [str(tool), "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        [str(tool), "test", "rules", "rules_test.yml"],
        cwd=RULES.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def _samples(text: str) -> dict[str, float]:
    """Every sample of a /metrics page, by name and labels (parsing fails on bad text)."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}"] = sample.value
    return found


def _total(samples: dict[str, float], name: str, having: str = "") -> float:
    return sum(v for k, v in samples.items() if k.startswith(name + "{") and having in k)


# What must move in each service when a user signs in and a transfer goes through.
MOVES: dict[str, Callable[[dict[str, float]], float]] = {
    "applications-server": lambda s: _total(s, "http_requests_total"),
    "processors": lambda s: _total(s, "curex_messages_consumed_total"),
    "ledger-gateway": lambda s: _total(s, "curex_messages_produced_total", "curex.ledger.blocks"),
    "read-model": lambda s: _total(s, "curex_messages_consumed_total", "curex-read-model"),
    "notifier": lambda s: _total(s, "curex_notifier_inbox_rows_total"),
    "kafka": lambda s: _total(s, "kafka_topic_messages_in_total", "topic=curex.transfer.requests"),
    "keycloak": lambda s: _total(s, "keycloak_user_events_total", "error=,event=login,realm=curex"),
    "postgres-exporter": lambda s: _total(
        s, "pg_stat_database_xact_commit_total", "datname=curex,"
    ),
}
# Besides the project's services, Prometheus must scrape these (on Fabric, the nodes too).
INFRASTRUCTURE = frozenset({"kafka", "keycloak", "postgres-exporter"})


def infrastructure_targets(stack: InfraSettings) -> frozenset[str]:
    if stack.ledger != "fabric":
        return INFRASTRUCTURE
    nodes = {"fabric-orderer", *(f"fabric-peer-{org.slug}" for org in stack.fabric_orgs)}
    return INFRASTRUCTURE | nodes


def metrics_url(stack: InfraSettings, service: str) -> str:
    address = service_registry(stack)[service].metrics
    assert address is not None, f"{service} serves no metrics"
    return f"http://{address}/metrics"


@pytest.fixture(scope="module")
async def seeded(stack: InfraSettings, publisher: CommandPublisher, watcher: BlockWatcher) -> None:
    await seed_demo_organisations(publisher, watcher)


async def test_every_service_exports_prometheus_text_whose_counters_move_with_traffic(
    stack: InfraSettings, seeded: None
) -> None:
    urls = {name: metrics_url(stack, name) for name in MOVES}
    async with httpx.AsyncClient() as http:
        before = {
            name: MOVES[name](_samples((await http.get(url)).text)) for name, url in urls.items()
        }
        async with Api(await user_token("doctor.ki")) as doctor:
            transfer_id = await doctor.create(emergency=True)
            await doctor.wait_state(transfer_id, TransferState.DATA_AVAILABLE)
        deadline = time.monotonic() + 30
        while True:
            after = {
                name: MOVES[name](_samples((await http.get(url)).text))
                for name, url in urls.items()
            }
            still = [name for name in MOVES if after[name] <= before[name]]
            if not still:
                break
            assert time.monotonic() < deadline, f"no counter moved in {still}"
            await asyncio.sleep(0.2)  # the interval of a deadline-bounded poll


async def _targets(http: httpx.AsyncClient, stack: InfraSettings) -> dict[str, str]:
    answer = (await http.get(f"{stack.prometheus_url}/api/v1/targets")).json()
    return {t["labels"]["service"]: t["health"] for t in answer["data"]["activeTargets"]}


async def test_prometheus_scrapes_every_service_and_reports_each_up(stack: InfraSettings) -> None:
    serving = {name for name, spec in service_registry(stack).items() if spec.metrics}
    wanted = serving | infrastructure_targets(stack)
    async with httpx.AsyncClient() as http:
        deadline = time.monotonic() + 30
        while True:
            targets = await _targets(http, stack)
            if wanted <= set(targets) and all(targets[name] == "up" for name in wanted):
                return
            assert time.monotonic() < deadline, f"targets: {targets}"
            await asyncio.sleep(0.5)  # the interval of a deadline-bounded poll


async def _alerts(http: httpx.AsyncClient, stack: InfraSettings, name: str) -> list[Any]:
    """The alerts named ``name`` that are pending or firing."""
    alerts = (await http.get(f"{stack.prometheus_url}/api/v1/alerts")).json()["data"]["alerts"]
    return [a for a in alerts if a["labels"].get("alertname") == name]


async def _firing(http: httpx.AsyncClient, stack: InfraSettings, service: str) -> bool:
    return any(
        a["labels"].get("service") == service and a["state"] == "firing"
        for a in await _alerts(http, stack, "CurexServiceDown")
    )


# A project service, and an infrastructure exporter.
@pytest.mark.crash
@pytest.mark.parametrize("victim", ["read-model", "postgres-exporter"])
async def test_a_stopped_service_fires_its_alert_within_the_rules_window(
    stack: InfraSettings, victim: str
) -> None:
    supervisor = Supervisor(stack)
    async with httpx.AsyncClient() as http:
        assert not await _firing(http, stack, victim)
        await asyncio.to_thread(supervisor.stop, victim)
        try:
            # Scraped every 5 s, firing after 15 s down: well within 45 s.
            deadline = time.monotonic() + 45
            while not await _firing(http, stack, victim):
                assert time.monotonic() < deadline, "CurexServiceDown never fired"
                await asyncio.sleep(0.5)  # the interval of a deadline-bounded poll
        finally:
            await asyncio.to_thread(ensure_stack, [victim], stack)


async def test_every_dashboard_query_is_one_prometheus_answers(stack: InfraSettings) -> None:
    dashboard = json.loads((RULES.parent / "dashboard.json").read_text())
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert queries
    async with httpx.AsyncClient() as http:
        for query in queries:
            answer = (
                await http.get(f"{stack.prometheus_url}/api/v1/query", params={"query": query})
            ).json()
            assert answer["status"] == "success", (query, answer)


async def _failed_sign_in(http: httpx.AsyncClient, stack: InfraSettings, username: str) -> None:
    token_url = f"{stack.keycloak_url}/realms/curex/protocol/openid-connect/token"
    form = {
        "grant_type": "password",
        "client_id": "curex-web",
        "username": username,
        "password": "not-the-password",
    }
    answer = await http.post(token_url, data=form)
    assert answer.status_code in (400, 401), answer.text


# The series a sign-in as an unknown user adds to (labels sorted, as ``_samples`` keys them).
_UNKNOWN_USER = "client_id=curex-web,error=user_not_found,event=login,realm=curex"
_UNKNOWN_USER_QUERY = (
    'sum(keycloak_user_events_total{client_id="curex-web", error="user_not_found",'
    ' event="login", realm="curex"})'
)


def _failed_sign_ins(samples: dict[str, float]) -> float:
    """Keycloak's count of sign-ins to realm curex as an unknown user."""
    return samples.get(f"keycloak_user_events_total{{{_UNKNOWN_USER}}}", -1.0)


BURST_EXPRESSION = (
    'sum by (realm) (increase(keycloak_user_events_total{event="login", error!=""}[1m]))'
)


async def _query(http: httpx.AsyncClient, stack: InfraSettings, query: str) -> object:
    answer = await http.get(f"{stack.prometheus_url}/api/v1/query", params={"query": query})
    return answer.json()["data"]["result"]


async def _scraped_failures(http: httpx.AsyncClient, stack: InfraSettings) -> float:
    result = await _query(http, stack, _UNKNOWN_USER_QUERY)
    return float(result[0]["value"][1]) if isinstance(result, list) and result else -1.0


async def test_a_burst_of_failed_sign_ins_fires_the_brute_force_alert(
    stack: InfraSettings,
) -> None:
    # Sign-ins as a user who does not exist: no real account is locked out.
    username = f"nobody-{uuid.uuid4().hex[:8]}"
    keycloak_metrics = metrics_url(stack, "keycloak")
    async with httpx.AsyncClient() as http:
        deadline = time.monotonic() + 75
        # Another run's burst fires for up to a minute: this run's must be its own.
        while await _alerts(http, stack, "CurexKeycloakLoginFailureBurst"):
            assert time.monotonic() < deadline, "the alert was already active"
            await asyncio.sleep(1)  # the interval of a deadline-bounded poll
        # One failure first, scraped, so the burst is an increase of a series Prometheus
        # already holds (an increase counts from a series' first sample).
        await _failed_sign_in(http, stack, username)
        exported = _failed_sign_ins(_samples((await http.get(keycloak_metrics)).text))
        # Equal, not at least: after Keycloak restarted (its counters begin again) and
        # Prometheus too, Prometheus may still show the old, higher count for minutes.
        while await _scraped_failures(http, stack) != exported:
            assert time.monotonic() < deadline, "Prometheus never scraped the failure"
            await asyncio.sleep(0.5)  # the interval of a deadline-bounded poll
        for _ in range(40):
            await _failed_sign_in(http, stack, username)
        # Scraped every 5 s, evaluated every 5 s, no `for`: within seconds on a quiet
        # machine; the rule's one-minute window bounds how long it can take at all.
        deadline = time.monotonic() + 55
        while not any(
            a["labels"].get("realm") == "curex" and a["state"] == "firing"
            for a in await _alerts(http, stack, "CurexKeycloakLoginFailureBurst")
        ):
            assert time.monotonic() < deadline, (
                "CurexKeycloakLoginFailureBurst never fired",
                await _query(http, stack, BURST_EXPRESSION),
                await _scraped_failures(http, stack),
            )
            await asyncio.sleep(0.5)  # the interval of a deadline-bounded poll
