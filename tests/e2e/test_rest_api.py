"""The Applications Server end to end: real Keycloak tokens, Kafka, the ledger, the read model."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from curex.block_watch import BlockWatcher
from curex.demo import seed_demo_organisations
from infra.settings import InfraSettings
from producers.publisher import CommandPublisher
from schemas import TransferState
from tests.e2e.rest import Api, user_token

pytestmark = pytest.mark.integration
S = TransferState


@dataclass
class Users:
    doctor_ki: Api
    doctor_sermas: Api
    patient_es: Api
    patient_se: Api
    anonymous: Api


@pytest.fixture(scope="module")
async def users(
    stack: InfraSettings, publisher: CommandPublisher, watcher: BlockWatcher
) -> AsyncIterator[Users]:
    await seed_demo_organisations(publisher, watcher)
    apis = Users(
        doctor_ki=Api(await user_token("doctor.ki")),
        doctor_sermas=Api(await user_token("doctor.sermas")),
        patient_es=Api(await user_token("patient.es")),
        patient_se=Api(await user_token("patient.se")),
        anonymous=Api(None),
    )
    yield apis
    for api in vars(apis).values():
        await api.close()


async def accepted(api: Api, path: str, body: dict[str, str] | None = None) -> None:
    response = await api.post(path, body)
    assert response.status_code == 202, response.text


async def test_normal_flow_through_the_rest_api(users: Users) -> None:
    tid = await users.doctor_ki.create(emergency=False)
    await users.patient_es.wait_state(tid, S.RISK_ACCEPTED)
    await accepted(users.patient_es, f"/v1/transfers/{tid}/consent", {"decision": "grant"})
    await users.doctor_sermas.wait_state(tid, S.DATA_AVAILABLE)
    await accepted(users.doctor_sermas, f"/v1/transfers/{tid}/transferred")
    await users.doctor_ki.wait_state(tid, S.DATA_TRANSFERRED)
    await accepted(users.doctor_ki, f"/v1/transfers/{tid}/received")
    await users.doctor_ki.wait_state(tid, S.DATA_RECEIVED)
    await accepted(users.doctor_ki, f"/v1/transfers/{tid}/close")
    await users.doctor_ki.wait_state(tid, S.CLOSED)
    history = (await users.patient_es.http.get(f"/v1/transfers/{tid}/history")).json()
    assert [h["to_state"] for h in history] == [
        "INITIALISED",
        "RISK_ACCEPTED",
        "PATIENT_ACCEPTED",
        "DATA_AVAILABLE",
        "DATA_TRANSFERRED",
        "DATA_RECEIVED",
        "CLOSED",
    ]
    assert all(h["tx_id"] and h["block_number"] >= 0 for h in history)


async def test_emergency_flow_skips_consent_and_is_flagged(users: Users) -> None:
    tid = await users.doctor_ki.create(emergency=True)
    transfer = await users.patient_es.wait_state(tid, S.DATA_AVAILABLE)
    assert transfer["review_required"]
    assert transfer["legal_basis"] == "GDPR Art. 6(1)(d), Art. 9(2)(c)"


async def test_refusal_revocation_and_cancellation(users: Users) -> None:
    refused, revoked, cancelled = [await users.doctor_ki.create(emergency=False) for _ in "abc"]
    for tid in (refused, revoked, cancelled):
        await users.doctor_ki.wait_state(tid, S.RISK_ACCEPTED)
    await accepted(users.patient_es, f"/v1/transfers/{refused}/consent", {"decision": "refuse"})
    await accepted(users.patient_es, f"/v1/transfers/{revoked}/revoke")
    await accepted(users.doctor_ki, f"/v1/transfers/{cancelled}/cancel")
    await users.doctor_ki.wait_state(refused, S.PATIENT_REJECTED)
    await users.patient_es.wait_state(revoked, S.CONSENT_REVOKED)
    await users.doctor_ki.wait_state(cancelled, S.CANCELLED)


async def test_lists_show_professionals_their_orgs_and_patients_their_own(users: Users) -> None:
    tid = await users.doctor_ki.create(emergency=True)
    await users.doctor_ki.wait_state(tid, S.DATA_AVAILABLE)
    for api in (users.doctor_ki, users.doctor_sermas, users.patient_es):
        assert tid in await listed(api)
    assert tid not in await listed(users.patient_se)


async def listed(api: Api, query: str = "limit=100") -> set[str]:
    answer = (await api.http.get(f"/v1/transfers?{query}")).json()
    assert set(answer) == {"items", "next_cursor"}
    return {item["transfer_id"] for item in answer["items"]}


async def test_a_professional_lists_by_side_state_and_emergency(users: Users) -> None:
    tid = await users.doctor_ki.create(emergency=True)
    await users.doctor_ki.wait_state(tid, S.DATA_AVAILABLE)
    assert tid in await listed(users.doctor_ki, "limit=100&as=requester&emergency=true")
    assert tid not in await listed(users.doctor_ki, "limit=100&as=source")
    assert tid in await listed(users.doctor_sermas, "limit=100&as=source&state=DATA_AVAILABLE")
    assert tid not in await listed(users.doctor_sermas, "limit=100&state=CLOSED")
    assert tid not in await listed(users.doctor_ki, "limit=100&emergency=false")


async def test_a_list_query_the_server_cannot_use_is_refused_with_a_reason(users: Users) -> None:
    for query in ("limit=101", "limit=0", "cursor=not-a-cursor", "state=NOPE", "as=both"):
        response = await users.doctor_ki.http.get(f"/v1/transfers?{query}")
        assert response.status_code == 422, (query, response.text)
        assert response.json()["detail"]


ACTIONS = [
    ("/consent", {"decision": "grant"}),
    ("/revoke", None),
    ("/transferred", None),
    ("/received", None),
    ("/close", None),
    ("/cancel", None),
]


async def test_every_route_refuses_a_missing_or_bad_token_with_401(users: Users) -> None:
    bad = Api("not-a-token")
    try:
        for api in (users.anonymous, bad):
            assert (await api.http.get("/v1/transfers")).status_code == 401
            assert (await api.http.get("/v1/transfers/tr-x/history")).status_code == 401
            assert (await api.http.get("/v1/me")).status_code == 401
            assert (
                await api.http.patch("/v1/me/preferences", json={"language": "es"})
            ).status_code == 401
            assert (
                await api.post(
                    "/v1/me/password", {"current_password": "a", "new_password": "b" * 12}
                )
            ).status_code == 401
            assert (
                await api.post(
                    "/v1/transfers",
                    {"patient_id": "ES-1000001", "source_org": "ES-SERMAS", "purpose": "TREAT"},
                )
            ).status_code == 401
            for suffix, body in ACTIONS:
                assert (await api.post(f"/v1/transfers/tr-x{suffix}", body)).status_code == 401
    finally:
        await bad.close()


async def test_403_for_strangers_and_wrong_roles_404_for_unknown_409_for_wrong_moment(
    users: Users,
) -> None:
    tid = await users.doctor_ki.create(emergency=False)
    await users.doctor_ki.wait_state(tid, S.RISK_ACCEPTED)
    # Not a party: the other patient sees nothing and may do nothing.
    assert (await users.patient_se.http.get(f"/v1/transfers/{tid}")).status_code == 403
    assert (await users.patient_se.http.get(f"/v1/transfers/{tid}/history")).status_code == 403
    for suffix, body in ACTIONS:
        response = await users.patient_se.post(f"/v1/transfers/{tid}{suffix}", body)
        assert response.status_code == 403, (suffix, response.text)
    # A party, but never theirs: a patient cannot mark data transferred; a doctor cannot consent.
    assert (await users.patient_es.post(f"/v1/transfers/{tid}/transferred")).status_code == 403
    assert (
        await users.doctor_ki.post(f"/v1/transfers/{tid}/consent", {"decision": "grant"})
    ).status_code == 403
    assert (
        await users.patient_es.post(
            "/v1/transfers", {"patient_id": "ES-1000001", "source_org": "SE-KI", "purpose": "TREAT"}
        )
    ).status_code == 403
    # Unknown transfer.
    for suffix, body in ACTIONS:
        response = await users.doctor_ki.post(f"/v1/transfers/tr-unknown{suffix}", body)
        assert response.status_code == 404
    assert (await users.doctor_ki.http.get("/v1/transfers/tr-unknown")).status_code == 404
    assert (await users.doctor_ki.http.get("/v1/transfers/tr-unknown/history")).status_code == 404
    # Theirs to take, but not now: 409 naming the current state.
    response = await users.doctor_ki.post(f"/v1/transfers/{tid}/close")
    assert response.status_code == 409
    assert response.json()["current_state"] == "RISK_ACCEPTED"
    response = await users.doctor_sermas.post(f"/v1/transfers/{tid}/transferred")
    assert response.status_code == 409


async def test_422_for_invalid_bodies(users: Users) -> None:
    bad_creates = [
        {},
        {"patient_id": "ES-1000001"},
        {"patient_id": "", "source_org": "ES-SERMAS", "purpose": "TREAT"},
        {"patient_id": "ES-1000001", "source_org": "not an org", "purpose": "TREAT"},
        {"patient_id": "ES-1000001", "source_org": "ES-SERMAS", "purpose": "TREAT", "extra": 1},
        {"patient_id": "ES-1000001", "source_org": "SE-KI", "purpose": "TREAT"},  # own org
        # Free text where a code belongs, and a purpose that does not fit the emergency flag.
        {"patient_id": "ES-1000001", "source_org": "ES-SERMAS", "purpose": "chest pain"},
        {"patient_id": "ES-1000001", "source_org": "ES-SERMAS", "reason": "chest pain"},
        {"patient_id": "ES-1000001", "source_org": "ES-SERMAS", "purpose": "ETREAT"},
        {"patient_id": "ES-1", "source_org": "ES-SERMAS", "purpose": "TREAT", "emergency": True},
    ]
    for body in bad_creates:
        response = await users.doctor_ki.post("/v1/transfers", body)
        assert response.status_code == 422, (body, response.text)
    tid = await users.doctor_ki.create(emergency=False)
    await users.doctor_ki.wait_state(tid, S.RISK_ACCEPTED)
    for body in ({}, {"decision": "maybe"}, {"decision": "grant", "x": 1}):
        response = await users.patient_es.post(f"/v1/transfers/{tid}/consent", body)
        assert response.status_code == 422
    response = await users.patient_es.http.patch("/v1/me/preferences", json={"language": "de"})
    assert response.status_code == 422
    response = await users.patient_es.post(
        "/v1/me/password", {"current_password": "x", "new_password": "short"}
    )
    assert response.status_code == 422


async def test_profile_and_language_preference(users: Users) -> None:
    me = (await users.patient_es.http.get("/v1/me")).json()
    assert (me["org"], me["role"], me["username"]) == ("ES-SERMAS", "patient", "patient.es")
    assert me["notifications_url"] == InfraSettings().notifications_url
    response = await users.patient_es.http.patch("/v1/me/preferences", json={"language": "es"})
    assert response.json()["language"] == "es"
    assert (await users.patient_es.http.get("/v1/me")).json()["language"] == "es"


async def test_a_command_the_contract_refuses_after_a_race_shows_as_last_rejection(
    users: Users,
) -> None:
    tid = await users.doctor_ki.create(emergency=False)
    await users.doctor_ki.wait_state(tid, S.RISK_ACCEPTED)
    # Both pass the API's check against the current state; the ledger takes only the first.
    # Each goes through its own organisation's gateway, so either may be first.
    first = await users.doctor_ki.post(f"/v1/transfers/{tid}/cancel")
    second = await users.patient_es.post(f"/v1/transfers/{tid}/revoke")
    assert (first.status_code, second.status_code) == (202, 202)
    transfer = await users.patient_es.wait_until(
        tid,
        lambda t: (
            t["state"] in {"CANCELLED", "CONSENT_REVOKED"} and t.get("last_rejection") is not None
        ),
    )
    assert transfer["last_rejection"]["code"] == "ILLEGAL_TRANSITION"
    assert transfer["last_rejection"]["current_state"] == transfer["state"]
    loser = "revoke" if transfer["state"] == "CANCELLED" else "cancel"
    assert transfer["last_rejection"]["reason"].startswith(f"{loser} is not allowed")


async def test_every_action_route_answers_409_on_a_finished_transfer(users: Users) -> None:
    tid = await users.doctor_ki.create(emergency=False)
    await users.doctor_ki.wait_state(tid, S.RISK_ACCEPTED)
    await accepted(users.doctor_ki, f"/v1/transfers/{tid}/cancel")
    await users.doctor_ki.wait_state(tid, S.CANCELLED)
    # Each caller is a party with the role the action needs: only the state is wrong.
    for api, suffix, body in (
        (users.patient_es, "/consent", {"decision": "grant"}),
        (users.patient_es, "/consent", {"decision": "refuse"}),
        (users.patient_es, "/revoke", None),
        (users.doctor_sermas, "/transferred", None),
        (users.doctor_ki, "/received", None),
        (users.doctor_ki, "/close", None),
        (users.doctor_ki, "/cancel", None),
    ):
        response = await api.post(f"/v1/transfers/{tid}{suffix}", body)
        assert response.status_code == 409, (suffix, response.text)
        assert response.json()["current_state"] == "CANCELLED"


async def test_a_note_with_control_characters_is_refused_with_a_reason(users: Users) -> None:
    for note in ("nul \x00 inside", "bell \x07 inside"):
        response = await users.doctor_ki.http.post(
            "/v1/transfers",
            json={
                "patient_id": "ES-1000001",
                "source_org": "ES-SERMAS",
                "purpose": "TREAT",
                "note": note,
            },
        )
        assert response.status_code == 422, response.text
        assert response.json()["detail"]
