"""GET /v1/ops/overview: the ops role's view, from Prometheus and the Applications Database,
in the shape the ops console relies on; other roles are refused; it answers without
Prometheus."""

import asyncio
import time
from datetime import datetime
from typing import Any

import pytest

from curex.block_watch import BlockWatcher, reached
from curex.stack_settings import api_settings
from infra.settings import InfraSettings
from producers.publisher import CommandPublisher
from schemas import TransferState
from tests.conftest import SessionWorld
from tests.e2e.rest import Api, in_process_api, user_token

pytestmark = pytest.mark.integration
KEYS = {
    "generated_at",
    "topics",
    "throughput_series",
    "consumer_groups",
    "dead_letters",
    "transfers_per_state",
    "stuck_transfers",
    "services",
    "alerts",
    "prometheus_available",
}


async def _overview(api: Api) -> dict[str, Any]:
    response = await api.http.get("/v1/ops/overview")
    assert response.status_code == 200, response.text
    overview: dict[str, Any] = response.json()
    return overview


async def test_the_overview_answers_ops_in_the_agreed_shape_from_prometheus_and_the_database(
    stack: InfraSettings, world: SessionWorld, publisher: CommandPublisher, watcher: BlockWatcher
) -> None:
    # An emergency transfer that stays available past its home organisation's 2 s limit.
    command = world.create(emergency=True, source=world.source_fast_expiry)
    await publisher.publish_and_wait(command)
    await watcher.wait_until(
        [command.transfer_id], reached(TransferState.DATA_AVAILABLE), within=60
    )
    async with Api(await user_token("ops.admin")) as ops:
        deadline = time.monotonic() + 60
        while True:
            overview = await _overview(ops)
            stuck = {s["transfer_id"]: s for s in overview["stuck_transfers"]}
            produced = {t["topic"] for t in overview["topics"]}
            if command.transfer_id in stuck and "curex.ledger.blocks" in produced:
                break
            assert time.monotonic() < deadline, overview
            await asyncio.sleep(0.5)  # the interval of a deadline-bounded poll
    assert set(overview) == KEYS
    assert overview["prometheus_available"] is True
    datetime.fromisoformat(overview["generated_at"])
    assert stuck[command.transfer_id]["state"] == "DATA_AVAILABLE"
    assert overview["transfers_per_state"]["DATA_AVAILABLE"] >= 1
    assert all(t["messages_per_s"] >= 0 for t in overview["topics"])
    now = time.time()
    for series in overview["throughput_series"]:
        assert all(now - 16 * 60 <= t <= now + 1 and rate >= 0 for t, rate in series["points"])
    groups = {(g["group"], g["topic"]) for g in overview["consumer_groups"]}
    assert ("curex-read-model", "curex.ledger.blocks") in groups
    assert all(isinstance(g["lag"], int) and g["lag"] >= 0 for g in overview["consumer_groups"])
    services = {s["name"]: s["healthy"] for s in overview["services"]}
    assert services["notifier"] is True
    assert services["applications-server"] is True
    # The infrastructure's exporters are Prometheus targets like any service.
    assert all(services[name] is True for name in ("kafka", "keycloak", "postgres-exporter"))
    assert set(overview["dead_letters"]) == {"total", "recent"}
    for alert in overview["alerts"]:
        assert set(alert) == {"name", "severity", "state", "since", "summary"}


@pytest.mark.parametrize("username", ["doctor.ki", "patient.es"])
async def test_other_roles_are_refused_with_403(stack: InfraSettings, username: str) -> None:
    async with Api(await user_token(username)) as api:
        assert (await api.http.get("/v1/ops/overview")).status_code == 403
    async with Api(None) as anonymous:
        assert (await anonymous.http.get("/v1/ops/overview")).status_code == 401


async def test_without_prometheus_the_overview_still_answers_and_says_so(
    stack: InfraSettings,
) -> None:
    # A server whose Prometheus is nowhere: a port nothing listens on.
    settings = api_settings(stack).model_copy(update={"prometheus_url": "http://127.0.0.1:9"})
    async with in_process_api(settings, await user_token("ops.admin")) as http:
        response = await http.get("/v1/ops/overview")
    assert response.status_code == 200
    overview = response.json()
    assert set(overview) == KEYS
    assert overview["prometheus_available"] is False
    assert overview["transfers_per_state"]
