"""A patient's real identifier never reaches Kafka, the ledger or a service log."""

import os
import sqlite3
import uuid
from pathlib import Path

import pytest

from curex.block_watch import BlockWatcher, reached
from curex.bus import open_bus
from curex.demo import seed_demo_organisations
from curex.rest_client import ApplicationsClient, password_token
from curex.stack_settings import processor_settings
from infra.postgres.server import cluster_dir
from infra.settings import InfraSettings
from ledger_gateway.embedded.codec import unpack
from ledger_gateway.settings import GatewaySettings
from processors.feedback import feedback_for
from processors.records import LocalRecordsStore
from producers.publisher import CommandPublisher
from schemas import RevokeConsent, TransferState
from schemas.topics import FEEDBACK
from tests.conftest import SessionWorld
from tests.e2e.test_assessment_record import feedback_records

pytestmark = pytest.mark.integration


def files_containing(root: Path, needle: bytes) -> list[Path]:
    """Files under ``root`` holding ``needle``; a file the service deletes mid-scan (Kafka
    removing a dropped topic, say) no longer holds anything and is skipped."""
    found = []
    for directory, _, names in os.walk(root):  # os.walk skips directories that vanish
        for name in names:
            path = Path(directory) / name
            try:
                if needle in path.read_bytes():
                    found.append(path)
            except FileNotFoundError:
                continue
    return found


def embedded_documents_containing(ledger_file: Path, needle: bytes) -> list[str]:
    """Rows of the embedded ledger whose decoded document holds ``needle``: it stores its
    documents deflated, where a byte scan of the file cannot see them."""
    if not ledger_file.exists():
        return []
    found = []
    conn = sqlite3.connect(f"file:{ledger_file}?mode=ro", uri=True)
    try:
        for table, column in (
            ("transactions", "body"),
            ("world_state", "value"),
            ("history", "value"),
        ):
            for (stored,) in conn.execute(f"SELECT {column} FROM {table}"):
                if needle in unpack(bytes(stored)):
                    found.append(table)
    finally:
        conn.close()
    return found


def embedded_ledger_file(stack: InfraSettings) -> Path:
    return GatewaySettings(data_dir=stack.data_dir).ledger_path


def ledger_places(stack: InfraSettings) -> tuple[Path, ...]:
    """Where the ledger keeps its data: the embedded ledger's file, and on Fabric every
    peer's and the orderer's ledgers and state databases."""
    embedded = GatewaySettings(data_dir=stack.data_dir).ledger_dir
    return (embedded, stack.fabric_data_dir) if stack.ledger == "fabric" else (embedded,)


async def test_a_canary_patient_id_is_found_nowhere_in_ledger_kafka_or_logs(
    stack: InfraSettings, publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    canary = f"CANARY-{uuid.uuid4().hex}"
    settings = processor_settings(stack)
    # The hospital's own records system knows the real id; the platform must not.
    LocalRecordsStore(settings.records_dir, world.key).add_patient(world.source, canary)
    create = world.create(emergency=True, patient_id=canary)
    await publisher.publish_and_wait(create)
    tid = create.transfer_id
    await watcher.wait_until([tid], reached(TransferState.DATA_AVAILABLE), within=60)
    await publisher.publish_and_wait(
        RevokeConsent(correlation_id=tid, transfer_id=tid, actor=world.patient(canary))
    )
    await watcher.wait_until([tid], reached(TransferState.CONSENT_REVOKED), within=60)

    needle = canary.encode()
    for place in ledger_places(stack):
        assert files_containing(place, needle) == [], place
    assert embedded_documents_containing(embedded_ledger_file(stack), needle) == []
    assert files_containing(stack.kafka_data_dir, needle) == []
    assert files_containing(stack.logs_dir, needle) == []
    # The check can find what is there: the records system does hold the id.
    assert files_containing(settings.records_dir, needle) != []
    await feedback_holds_no_identifier(stack, watcher, tid, world.pseudonym(canary))


async def feedback_holds_no_identifier(
    stack: InfraSettings, watcher: BlockWatcher, transfer_id: str, pseudonym: str
) -> None:
    """The finished transfer's feedback reached both organisations' topics, and neither
    topic's files hold the transfer's id, the patient's pseudonym or a person's id."""
    final = watcher.committed(transfer_id)[-1]
    assert final.result.transfer is not None
    actors = {
        r.result.transfer.last_transition.actor.user_id
        for r in watcher.committed(transfer_id)
        if r.result.transfer is not None
    }
    for record in feedback_for(final.tx_id, final.result.transfer):
        topic = FEEDBACK.for_org(record.org_id).name
        found = await feedback_records(stack, record.org_id, {record.event_id}, within=60)
        assert len(found) == 1, topic
        topic_files = stack.kafka_data_dir / f"{topic}-0"
        # The scan reads where the record is: it finds the record's own id there.
        assert files_containing(topic_files, str(record.event_id).encode()) != [], topic
        for identifier in {transfer_id, pseudonym, final.tx_id, *actors}:
            assert files_containing(topic_files, identifier.encode()) == [], (topic, identifier)


async def test_a_canary_patient_id_sent_to_the_rest_api_is_found_nowhere_but_in_pseudonym_form(
    stack: InfraSettings,
) -> None:
    canary = f"CANARY-{uuid.uuid4().hex}"
    token = await password_token(stack.keycloak_url, "doctor.ki", "demo-password")
    async with ApplicationsClient(f"http://127.0.0.1:{stack.api_port}", token) as doctor:
        await seed_then_wait(stack)
        transfer_id = await doctor.create(patient_id=canary, source_org="ES-SERMAS", emergency=True)
        # No records system holds the canary: the transfer ends as DATA_UNAVAILABLE.
        transfer = await doctor.wait_state(transfer_id, TransferState.DATA_UNAVAILABLE)
    assert canary not in str(transfer)

    needle = canary.encode()
    for place in (
        *ledger_places(stack),
        stack.kafka_data_dir,
        stack.logs_dir,
        cluster_dir(stack),
    ):
        assert files_containing(place, needle) == [], place
    assert embedded_documents_containing(embedded_ledger_file(stack), needle) == []


async def seed_then_wait(stack: InfraSettings) -> None:
    async with open_bus(stack) as bus, BlockWatcher(bus.observer) as watcher:
        await seed_demo_organisations(bus.publisher, watcher)
