"""Idempotency-Key on the REST API: one user, route and transfer per key; the same request
again takes effect once, another request under the key is refused with 422."""

import uuid
from collections.abc import AsyncIterator

import pytest

from infra.settings import InfraSettings
from schemas import TransferState
from tests.e2e.rest import Api, user_token

pytestmark = pytest.mark.integration

CREATE = {
    "patient_id": "ES-1000001",
    "source_org": "ES-SERMAS",
    "emergency": False,
    "purpose": "COC",
}


@pytest.fixture
async def doctor(stack: InfraSettings) -> AsyncIterator[Api]:
    api = Api(await user_token("doctor.ki"))
    yield api
    await api.close()


async def test_the_same_create_under_one_key_makes_one_transfer(doctor: Api) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await doctor.http.post("/v1/transfers", json=CREATE, headers=key)
    again = await doctor.http.post("/v1/transfers", json=CREATE, headers=key)
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["transfer_id"] == again.json()["transfer_id"]


async def test_another_body_under_a_used_key_is_refused_with_422(doctor: Api) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await doctor.http.post("/v1/transfers", json=CREATE, headers=key)
    other = await doctor.http.post(
        "/v1/transfers", json={**CREATE, "purpose": "TREAT"}, headers=key
    )
    assert first.status_code == 202
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["detail"]


async def test_a_key_reused_on_another_route_takes_effect_there_too(doctor: Api) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    created = await doctor.http.post("/v1/transfers", json=CREATE, headers=key)
    transfer_id = created.json()["transfer_id"]
    await doctor.wait_state(transfer_id, TransferState.RISK_ACCEPTED)

    cancelled = await doctor.http.post(f"/v1/transfers/{transfer_id}/cancel", headers=key)

    assert cancelled.status_code == 202
    await doctor.wait_state(transfer_id, TransferState.CANCELLED)
