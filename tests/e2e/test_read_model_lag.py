"""A client acts on a change it was told of before the read model has it: the API asks the
ledger before it refuses, so the read model's lag never turns a valid action into a 409,
and a refusal still names the state the ledger holds."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from curex.block_watch import BlockWatcher, reached
from curex.demo import seed_demo_organisations
from infra.settings import InfraSettings
from infra.supervision import Supervisor
from producers.publisher import CommandPublisher
from schemas import TransferState
from tests.e2e.rest import Api, user_token

pytestmark = [pytest.mark.integration, pytest.mark.crash]
S = TransferState


@pytest.fixture
async def read_model_stopped_at_consent(
    stack: InfraSettings, publisher: CommandPublisher, watcher: BlockWatcher
) -> AsyncIterator[tuple[str, Api]]:
    """A transfer the read model last saw awaiting consent, with the read model stopped."""
    await seed_demo_organisations(publisher, watcher)
    ki = Api(await user_token("doctor.ki"))
    supervisor = Supervisor(stack)
    try:
        transfer_id = await ki.create(emergency=False)
        await ki.wait_state(transfer_id, S.RISK_ACCEPTED)
        await asyncio.to_thread(supervisor.stop, "read-model")
        try:
            yield transfer_id, ki
        finally:
            await asyncio.to_thread(supervisor.start, "read-model")
    finally:
        await ki.close()


async def test_an_action_the_ledger_allows_is_accepted_while_the_read_model_lags(
    read_model_stopped_at_consent: tuple[str, Api], watcher: BlockWatcher
) -> None:
    transfer_id, ki = read_model_stopped_at_consent
    async with (
        Api(await user_token("patient.es")) as patient,
        Api(await user_token("doctor.sermas")) as sermas,
    ):
        await patient.act(transfer_id, "consent", {"decision": "grant"})
        await watcher.wait_until([transfer_id], reached(S.DATA_AVAILABLE), within=60)
        view = await sermas.http.get(f"/v1/transfers/{transfer_id}")
        assert view.json()["state"] == S.RISK_ACCEPTED  # the read model is still behind

        early = await ki.post(f"/v1/transfers/{transfer_id}/received")
        assert early.status_code == 409
        assert early.json()["current_state"] == S.DATA_AVAILABLE  # the ledger's, not the view's

        await sermas.act(transfer_id, "transferred")
        await watcher.wait_until([transfer_id], reached(S.DATA_TRANSFERRED), within=60)
