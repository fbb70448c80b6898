"""The notifier as its own service: parties hear every change in order and in their
language, a resume replays exactly what was missed from whichever instance, a killed
instance loses nothing, and a client that stops reading is closed without slowing others."""

import asyncio
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from curex.block_watch import BlockWatcher
from curex.bus import observer_access
from curex.demo import seed_demo_organisations
from infra.settings import InfraSettings
from notifier.messages import message_for
from producers.publisher import CommandPublisher
from schemas import TransferState
from tests.e2e.consumer_groups import NOTIFIER_GROUP, wait_until_caught_up
from tests.e2e.notification_client import NotificationClient, stalled_connection
from tests.e2e.notifier_processes import NotifierProcess, notifier_instances
from tests.e2e.rest import Api, user_token

pytestmark = pytest.mark.integration
S = TransferState
EMERGENCY_UP_TO_AVAILABLE = ["INITIALISED", "RISK_ACCEPTED", "EMERGENCY_BYPASS", "DATA_AVAILABLE"]
TO_THE_END = ["DATA_TRANSFERRED", "DATA_RECEIVED", "CLOSED"]
LATENCY_TARGET_S = 0.25


@pytest.fixture(scope="module")
async def seeded(stack: InfraSettings, publisher: CommandPublisher, watcher: BlockWatcher) -> None:
    await seed_demo_organisations(publisher, watcher)


@pytest.fixture(scope="module")
async def two_instances(stack: InfraSettings, seeded: None) -> AsyncIterator[list[NotifierProcess]]:
    # A small queue and a short send timeout, so a stalled client is found out quickly.
    env = {"CUREX_NOTIFIER_SEND_QUEUE": "64", "CUREX_NOTIFIER_SEND_TIMEOUT_S": "2"}
    async with notifier_instances(stack, 2, env) as instances:
        yield instances


async def _finish(transfer_id: str, ki: Api, sermas: Api) -> None:
    """Takes an available transfer through transferred, received and closed."""
    for api, action, state in (
        (sermas, "transferred", S.DATA_TRANSFERRED),
        (ki, "received", S.DATA_RECEIVED),
        (ki, "close", S.CLOSED),
    ):
        await api.act(transfer_id, action)
        await ki.wait_state(transfer_id, state)


async def test_each_party_hears_every_change_in_order_and_in_their_language_a_stranger_nothing(
    stack: InfraSettings, seeded: None
) -> None:
    languages = {"patient.es": "es", "doctor.ki": "sv", "doctor.sermas": "en"}
    tokens = {user: await user_token(user) for user in [*languages, "patient.se"]}
    for user, language in languages.items():
        async with Api(tokens[user]) as api:
            await api.http.patch("/v1/me/preferences", json={"language": language})
    clients = {user: NotificationClient(token) for user, token in tokens.items()}
    for client in clients.values():
        await client.connect(stack.notifications_url)
    ki, sermas = Api(tokens["doctor.ki"]), Api(tokens["doctor.sermas"])
    try:
        transfer_id = await ki.create(emergency=True)
        await ki.wait_state(transfer_id, S.DATA_AVAILABLE)
        await _finish(transfer_id, ki, sermas)
        every_change = EMERGENCY_UP_TO_AVAILABLE + TO_THE_END
        for user, language in languages.items():
            client = clients[user]
            await client.until(lambda c: len(c.states(transfer_id)) >= len(every_change))
            assert client.states(transfer_id) == every_change, user
            for frame in client.updates(transfer_id):
                assert frame["message"] == message_for(S(frame["state"]), language)  # type: ignore[arg-type]
        stranger = clients["patient.se"]
        await stranger.resume(None)
        await stranger.until(lambda c: c.resumed())
        assert stranger.states(transfer_id) == []
    finally:
        for client in clients.values():
            await client.close()
        for api in (ki, sermas):
            await api.close()


async def test_a_client_gone_during_three_changes_gets_exactly_those_on_resume_elsewhere(
    two_instances: list[NotifierProcess],
) -> None:
    first, other = two_instances
    ki, sermas = Api(await user_token("doctor.ki")), Api(await user_token("doctor.sermas"))
    client = NotificationClient(await user_token("doctor.ki"))
    try:
        await client.connect(first.url)
        transfer_id = await ki.create(emergency=True)
        await client.until(lambda c: c.states(transfer_id) == EMERGENCY_UP_TO_AVAILABLE)
        last_seen = client.last_tx
        await client.close()
        await _finish(transfer_id, ki, sermas)
        client.frames.clear()
        await client.connect(other.url, resume_after=last_seen, resume=True)
        await client.until(lambda c: c.resumed())
        assert client.states(transfer_id) == TO_THE_END
        replayed = [f["tx_id"] for f in client.updates()]
        assert len(replayed) == len(set(replayed))
    finally:
        await client.close()
        for api in (ki, sermas):
            await api.close()


def _slow_client_drops(metrics: str) -> float:
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == "curex_notifier_drops_total" and sample.labels == {
                "reason": "slow_client"
            }:
                return sample.value
    return 0.0


async def _newest_change() -> str | None:
    """The tx id of patient.es's latest change, as the read model has it."""
    patient = Api(await user_token("patient.es"))
    try:
        page = (await patient.http.get("/v1/transfers", params={"limit": 1})).json()
        if not page["items"]:
            return None
        history = await patient.history(page["items"][0]["transfer_id"])
        return str(history[-1]["tx_id"])
    finally:
        await patient.close()


async def test_a_client_that_stops_reading_is_closed_and_others_stay_within_target(
    two_instances: list[NotifierProcess],
) -> None:
    instance = two_instances[1]
    ki = Api(await user_token("doctor.ki"))
    reader = NotificationClient(await user_token("patient.es"))
    async with httpx.AsyncClient() as http:
        drops_before = _slow_client_drops((await http.get(instance.metrics_url)).text)
    stalled = None
    try:
        for _ in range(5):  # the professional's inbox holds enough to overflow a stalled socket
            await ki.wait_state(await ki.create(emergency=True), S.DATA_AVAILABLE)
        # What is measured is the stalled client's effect, not a backlog earlier tests (a
        # crash test, a bench) left the notifiers to write into the inboxes.
        await wait_until_caught_up(InfraSettings(), NOTIFIER_GROUP, 120)
        started = time.time()
        stalled = await stalled_connection(instance.url, await user_token("doctor.ki"))
        for _ in range(1000):  # each replays the whole inbox, into a socket nobody reads
            await stalled.send(json.dumps({"type": "resume", "after": None}))
        # As a page that was open does on reconnecting: resume after the last change it
        # saw, so live changes flow from then on (a replay of the patient's whole inbox,
        # which grows with every run on a long-lived stack, is not what this measures).
        await reader.connect(instance.url, resume_after=await _newest_change(), resume=True)
        await reader.until(lambda c: c.resumed())
        async with BlockWatcher(observer_access(InfraSettings())) as blocks:
            transfer_id = await ki.create(emergency=True)
            await reader.until(lambda c: c.states(transfer_id) == EMERGENCY_UP_TO_AVAILABLE)
            await blocks.wait_until(
                [transfer_id], lambda reports: len(reports) >= len(EMERGENCY_UP_TO_AVAILABLE), 60
            )
            committed = {r.tx_id: r for r in blocks.committed(transfer_id)}
        # Each change reached the reading client within the target of its ledger commit.
        delays = [
            arrived - committed[f["tx_id"]].occurred_at.timestamp()
            for f, arrived in zip(reader.frames, reader.arrived, strict=True)
            if f.get("transfer_id") == transfer_id
        ]
        assert max(delays) <= LATENCY_TARGET_S, (delays, reader.arrived[-1] - started)
        # The server gives up on the stalled client (and counts it) while it still reads nothing.
        async with httpx.AsyncClient() as http:
            deadline = time.monotonic() + 60
            while _slow_client_drops((await http.get(instance.metrics_url)).text) == drops_before:
                assert time.monotonic() < deadline, "the stalled client was never dropped"
                await asyncio.sleep(0.1)  # the interval of a deadline-bounded poll
        # Reading again, it finds the close frame behind what it had not read.
        closed: websockets.ConnectionClosed | None = None
        while closed is None:
            assert time.monotonic() < deadline, "the stalled client never saw the close"
            try:
                await asyncio.wait_for(stalled.recv(), timeout=deadline - time.monotonic())
            except websockets.ConnectionClosed as error:
                closed = error
        assert closed.rcvd is not None
        assert closed.rcvd.code == 1013
    finally:
        if stalled is not None:
            await stalled.close()
        await reader.close()
        await ki.close()


# Last: the killed instance keeps its partitions until its session times out (10 s), and
# the changes in them reach the inboxes only then.
async def test_killing_an_instance_mid_stream_loses_no_notification_and_repeats_none(
    two_instances: list[NotifierProcess],
) -> None:
    doomed, survivor = two_instances
    ki = Api(await user_token("doctor.ki"))
    clients = [NotificationClient(await user_token(u)) for u in ("doctor.ki", "patient.es")]
    try:
        for client in clients:
            await client.connect(doomed.url)
        transfers = [await ki.create(emergency=True) for _ in range(6)]
        # Mid-stream: the first change arrived, most have not.
        await clients[0].until(lambda c: bool(c.updates()))
        await doomed.kill()
        for client in clients:
            await client.until(lambda c: c.closed_with is not None, within=30)
            await client.connect(survivor.url, resume_after=client.last_tx, resume=True)
        for client in clients:
            await client.until(
                lambda c: all(len(c.states(t)) >= len(EMERGENCY_UP_TO_AVAILABLE) for t in transfers)
            )
            for transfer_id in transfers:
                assert client.states(transfer_id) == EMERGENCY_UP_TO_AVAILABLE
            received = [f["tx_id"] for f in client.updates()]
            assert len(received) == len(set(received)), "a notification came twice"
    finally:
        for client in clients:
            await client.close()
        await ki.close()
