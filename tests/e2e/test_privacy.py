"""A patient's real identifier, a free-text note and malformed input never reach the ledger,
Kafka (the dead-letter topic included), a service log or the Applications Database."""

import json
import os
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from curex.block_watch import BlockWatcher, reached
from curex.bus import observer_access, open_bus
from curex.demo import seed_demo_organisations
from curex.rest_client import ApplicationsClient, password_token
from curex.stack_settings import processor_settings
from infra.kafka.principals import APPLICATIONS_SERVER
from infra.kafka.security import kafka_access
from infra.postgres.server import cluster_dir
from infra.settings import InfraSettings
from ledger_gateway.embedded.codec import unpack
from ledger_gateway.settings import GatewaySettings
from processors.feedback import feedback_for
from processors.records import LocalRecordsStore
from producers.publisher import CommandPublisher
from schemas import DeadLetter, RevokeConsent, TransferState
from schemas.topics import DEADLETTER, FEEDBACK, TRANSFER_REQUESTS
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


async def test_canaries_as_patient_id_in_a_note_and_in_malformed_input_are_found_nowhere(
    stack: InfraSettings,
) -> None:
    as_patient_id, in_note, malformed = (f"CANARY-{uuid.uuid4().hex}" for _ in range(3))
    token = await password_token(stack.keycloak_url, "doctor.ki", "demo-password")
    await seed_then_wait(stack)
    async with ApplicationsClient(f"http://127.0.0.1:{stack.api_port}", token) as doctor:
        note = f"collapsed at the airport, {in_note}, suspected stroke"
        transfer_id = await doctor.create(
            patient_id=as_patient_id, source_org="ES-SERMAS", emergency=True, note=note
        )
        transfer = await doctor.wait_state(transfer_id, TransferState.DATA_UNAVAILABLE)
        # Kept for the people who may read it, so the scans below can miss nothing.
        assert transfer["note"] == note
        # Refused at the edge: a code where free text was sent.
        refused = await doctor.http.post(
            "/v1/transfers",
            json={"patient_id": "ES-1000001", "source_org": "ES-SERMAS", "purpose": malformed},
        )
        assert refused.status_code == 422
    # Refused behind the edge: written straight to the bus, it is dead-lettered.
    placed = await write_malformed_request(stack, malformed)
    await wait_for_dead_letter(stack, placed)

    kafka = stack.kafka_data_dir
    dead_letters = [kafka / d for d in os.listdir(kafka) if d.startswith(f"{DEADLETTER.name}-")]
    for needle in (as_patient_id, in_note, malformed):
        found = embedded_documents_containing(embedded_ledger_file(stack), needle.encode())
        assert found == [], (needle, found)
    for needle in (as_patient_id, in_note):
        for place in (*ledger_places(stack), kafka, stack.logs_dir, cluster_dir(stack)):
            assert files_containing(place, needle.encode()) == [], (needle, place)
    # The malformed message stays where it was written (its source topic) and nowhere else.
    for place in (*ledger_places(stack), *dead_letters, stack.logs_dir, cluster_dir(stack)):
        assert files_containing(place, malformed.encode()) == [], place
    assert files_containing(kafka / f"{TRANSFER_REQUESTS.name}-{placed[0]}", malformed.encode())


async def write_malformed_request(stack: InfraSettings, canary: str) -> tuple[int, int]:
    """A create carrying a raw identifier where a pseudonym belongs; where it was written."""
    value = json.dumps(
        {
            "type": "create_transfer",
            "correlation_id": "t-malformed",
            "transfer_id": "t-malformed-canary",
            "actor": {"user_id": "doctor.ki", "org": "SE-KI", "role": "health_professional"},
            "source_org": "ES-SERMAS",
            "patient_pseudonym": canary,
            "purpose": "TREAT",
        }
    ).encode()
    producer = AIOKafkaProducer(
        **kafka_access(stack, APPLICATIONS_SERVER).client_options(), acks="all"
    )
    await producer.start()
    try:
        metadata = await (await producer.send(TRANSFER_REQUESTS.name, value, key=b"t-malformed"))
    finally:
        await producer.stop()
    return metadata.partition, metadata.offset


async def wait_for_dead_letter(stack: InfraSettings, placed: tuple[int, int]) -> DeadLetter:
    consumer = AIOKafkaConsumer(**observer_access(stack).client_options(), group_id=None)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(DEADLETTER.name, p) for p in range(DEADLETTER.partitions)])
        await consumer.seek_to_beginning()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    letter = DeadLetter.model_validate_json(record.value or b"")
                    coordinates = (letter.source_partition, letter.source_offset)
                    if letter.source_topic == TRANSFER_REQUESTS.name and coordinates == placed:
                        return letter
    finally:
        await consumer.stop()
    raise AssertionError(f"no dead letter for {TRANSFER_REQUESTS.name} {placed} within 60 s")


async def seed_then_wait(stack: InfraSettings) -> None:
    async with open_bus(stack) as bus, BlockWatcher(bus.observer) as watcher:
        await seed_demo_organisations(bus.publisher, watcher)
