"""Fixtures for tests against the real local services, started through infra/."""

import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from keycloak import KeycloakAdmin

from curex.assessments import assessment
from curex.block_watch import BlockWatcher
from curex.bus import observer_access, open_bus
from curex.stack_settings import processor_settings
from infra.secrets import keycloak_admin_password
from infra.settings import InfraSettings
from infra.testing import ensure_stack
from processors.intake import system_actor
from processors.records import LocalRecordsStore
from producers.publisher import CommandPublisher
from schemas import (
    Actor,
    CreateTransfer,
    OrganisationPolicy,
    Role,
    TransactionCommitted,
    pseudonymise,
)
from schemas.codes import purpose_for

# The suite's organisations besides the two members: each hosted by a member, as a site
# without a peer of its own would be. Set before any setting is read: the stack started
# for the tests configures its ledger, processors and bus for them.
TEST_ORGS = {
    "TS-REQUESTING": "SE-KI",
    "TS-SOURCE": "ES-SERMAS",
    "TS-FAST-EXPIRY": "ES-SERMAS",
    "TS-RISKY": "ES-SERMAS",
    # The assessment record's tests change these organisations' scores and safeguards.
    "TS-EXPIRING": "ES-SERMAS",
    "TS-AUDITED": "SE-KI",
}
os.environ.setdefault("CUREX_LEDGER_HOSTING", json.dumps(TEST_ORGS))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect tests marked for the other ledger: each ledger run collects only its own."""
    kind = InfraSettings().ledger
    kept: list[pytest.Item] = []
    other: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker("ledger")
        (other if marker is not None and marker.args[0] != kind else kept).append(item)
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = kept


@pytest.fixture(scope="session")
def stack() -> InfraSettings:
    settings = ensure_stack([])
    # A lockout left by an earlier run (the realm locks after failed logins) is not this
    # run's to inherit.
    KeycloakAdmin(
        server_url=settings.keycloak_url,
        username="admin",
        password=keycloak_admin_password(settings),
        realm_name="curex",
        user_realm_name="master",
    ).clear_all_bruteforce_attempts()
    return settings


@pytest.fixture(scope="session")
async def publisher(stack: InfraSettings) -> AsyncIterator[CommandPublisher]:
    async with open_bus(stack) as bus:
        yield bus.publisher


@pytest.fixture(scope="session")
async def watcher(stack: InfraSettings) -> AsyncIterator[BlockWatcher]:
    async with BlockWatcher(observer_access(stack)) as watching:
        yield watching


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


@dataclass(frozen=True)
class SessionWorld:
    """Organisations and a patient that exist only for this test session."""

    requesting: str
    source: str
    source_fast_expiry: str
    risky: str
    patient_id: str
    patient_without_records: str
    key: bytes

    def pseudonym(self, patient_id: str | None = None, org: str | None = None) -> str:
        return pseudonymise(self.key, org or self.source, patient_id or self.patient_id)

    def doctor(self, org: str) -> Actor:
        return Actor(user_id=f"doctor@{org}", org=org, role=Role.HEALTH_PROFESSIONAL)

    def patient(self, patient_id: str | None = None, org: str | None = None) -> Actor:
        return Actor(
            user_id=self.pseudonym(patient_id, org), org=org or self.source, role=Role.PATIENT
        )

    def create(
        self, *, emergency: bool, source: str | None = None, patient_id: str | None = None
    ) -> CreateTransfer:
        transfer_id = unique("t-")
        source = source or self.source
        return CreateTransfer(
            correlation_id=transfer_id,
            transfer_id=transfer_id,
            actor=self.doctor(self.requesting),
            source_org=source,
            patient_pseudonym=self.pseudonym(patient_id, source),
            emergency=emergency,
            purpose=purpose_for(emergency),
        )


@pytest.fixture(scope="session")
async def world(
    stack: InfraSettings, publisher: CommandPublisher, watcher: BlockWatcher
) -> SessionWorld:
    settings = processor_settings(stack)
    world = SessionWorld(
        requesting="TS-REQUESTING",
        source="TS-SOURCE",
        source_fast_expiry="TS-FAST-EXPIRY",
        risky="TS-RISKY",
        patient_id=unique("P-"),
        patient_without_records=unique("P-"),
        key=settings.pseudonym_key.encode(),
    )
    records = LocalRecordsStore(settings.records_dir, world.key)
    for org, limit_s, score in (
        (world.requesting, 3600, 90),
        (world.source, 3600, 90),
        (world.source_fast_expiry, 2, 90),  # consents expire and reviews fall due at once
        (world.risky, 3600, 20),
    ):
        await publisher.publish_policy(
            OrganisationPolicy(
                org_id=org,
                min_cybersecurity=60,
                min_privacy=60,
                consent_time_limit_s=limit_s,
                review_time_limit_s=limit_s,
            ),
            system_actor(org),
        )
        await publisher.publish_risk_assessment(assessment(org, score, score))
        records.add_patient(org, world.patient_id)
    orgs = [world.requesting, world.source, world.source_fast_expiry, world.risky]
    await watcher.wait_until(
        orgs,
        lambda reports: sum(isinstance(r, TransactionCommitted) for r in reports) >= 2,
        within=60,
    )
    return world
