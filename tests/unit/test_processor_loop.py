"""The processors' consumer loop: outputs acknowledged before offsets are committed,
poison messages dead-lettered, consent deadlines kept in their changelog."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaTimeoutError

from processors.app import Reactions, Submitter, expire_overdue, intake_handlers
from processors.consuming import BatchConsumer, Outbox
from processors.deadlines import CONSENT_DEADLINES, ConsentDeadlines
from processors.intake import system_actor
from processors.reactions import ConsentDeadline
from processors.records import InMemoryRecords
from schemas import (
    Action,
    ApplyActionTx,
    CloseTransfer,
    CommandRejected,
    DeadLetter,
    FlagReviewOverdueTx,
    LedgerCommand,
    PurposeOfUse,
    TransactionCommitted,
    Transfer,
    TransferState,
    Transition,
    TxResult,
)
from schemas.network import DEMO_NETWORK
from schemas.topics import DEADLETTER, LEDGER_BLOCKS, LEDGER_COMMANDS, TRANSFER_REQUESTS
from service_runtime.errors import OutputFailed
from tests.unit.contract_world import PATIENT, REQUESTING, SOURCE
from tests.unit.test_processor_reactions import HP
from tests.unit.waiting import until

SUBMIT = Submitter(DEMO_NETWORK)
INTAKE_HANDLERS = intake_handlers(SUBMIT)

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def record(topic: str, partition: int, offset: int, value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(topic, partition, offset, 0, 0, b"k", value, None, 1, len(value), ())


class FakeProducer:
    """Deliveries stay pending until ``release``: the broker has not acknowledged yet."""

    def __init__(self, refuse: Exception | None = None) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, int | None]] = []
        self.pending: list[asyncio.Future[None]] = []
        self.refuse = refuse

    async def send(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        partition: int | None = None,
    ) -> asyncio.Future[None]:
        if self.refuse is not None:
            raise self.refuse
        self.sent.append((topic, value, key, partition))
        delivery: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append(delivery)
        return delivery

    def release(self, error: Exception | None = None) -> None:
        for delivery in self.pending:
            if error is None:
                delivery.set_result(None)
            else:
                delivery.set_exception(error)
        self.pending = []

    def on(self, topic: str) -> list[bytes | None]:
        return [value for sent_topic, value, _, _ in self.sent if sent_topic == topic]


class FakeConsumer:
    def __init__(self, batches: list[list[ConsumerRecord[bytes, bytes]]]) -> None:
        self.batches = batches
        self.all = list(batches)
        self.commits: list[dict[TopicPartition, int]] = []
        self.drained = asyncio.Event()

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, Any]:
        if not self.batches:
            self.drained.set()
            await asyncio.sleep(timeout_ms / 1000)
            return {}
        polled: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {}
        for r in self.batches.pop(0):
            polled.setdefault(TopicPartition(r.topic, r.partition), []).append(r)
        return polled

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(offsets)

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(r.topic, r.partition) for batch in self.all for r in batch}

    def highwater(self, tp: TopicPartition) -> int | None:
        return None


def close_command(transfer_id: str = "t-loop-1") -> bytes:
    command = CloseTransfer(correlation_id=transfer_id, transfer_id=transfer_id, actor=HP)
    return command.model_dump_json().encode()


async def test_offsets_are_committed_only_after_every_output_is_acknowledged() -> None:
    consumer = FakeConsumer(
        [
            [
                record(TRANSFER_REQUESTS.name, 0, 113, close_command()),
                record(TRANSFER_REQUESTS.name, 1, 7, b"not json"),
            ]
        ]
    )
    producer = FakeProducer()
    loop = BatchConsumer("intake", consumer, producer, INTAKE_HANDLERS, max_batch=10)
    running = asyncio.create_task(loop.run())
    try:
        await until(lambda: len(producer.pending) == 2)
        for _ in range(50):
            await asyncio.sleep(0)
        assert consumer.commits == []  # sent, but not acknowledged yet
        producer.release()
        await asyncio.wait_for(consumer.drained.wait(), 1)
        await until(lambda: consumer.commits)
        assert consumer.commits == [
            {
                TopicPartition(TRANSFER_REQUESTS.name, 0): 114,
                TopicPartition(TRANSFER_REQUESTS.name, 1): 8,
            }
        ]
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
    [command] = producer.on(LEDGER_COMMANDS.for_org(HP.org).name)
    assert LedgerCommand.model_validate_json(command or b"").correlation_id == "t-loop-1"
    [letter] = producer.on(DEADLETTER.name)
    dead = DeadLetter.model_validate_json(letter or b"")
    assert (dead.source_topic, dead.source_partition, dead.source_offset) == (
        TRANSFER_REQUESTS.name,
        1,
        7,
    )


async def test_a_failed_delivery_stops_the_loop_without_committing() -> None:
    consumer = FakeConsumer([[record(TRANSFER_REQUESTS.name, 0, 5, close_command())]])
    producer = FakeProducer()
    loop = BatchConsumer("intake", consumer, producer, INTAKE_HANDLERS, max_batch=10)
    running = asyncio.create_task(loop.run())
    await until(lambda: producer.pending)
    producer.release(ConnectionError("broker gone"))
    with pytest.raises(ConnectionError):
        await running
    assert consumer.commits == []


async def test_a_producer_that_refuses_output_stops_the_loop_and_dead_letters_nothing() -> None:
    consumer = FakeConsumer([[record(TRANSFER_REQUESTS.name, 0, 5, close_command())]])
    producer = FakeProducer(refuse=KafkaTimeoutError())
    loop = BatchConsumer("intake", consumer, producer, INTAKE_HANDLERS, max_batch=10)
    with pytest.raises(OutputFailed):
        await asyncio.wait_for(loop.run(), 1)
    assert producer.sent == []
    assert consumer.commits == []


def transfer(state: TransferState, deadline: datetime | None = None) -> Transfer:
    return Transfer(
        transfer_id="t-loop-2",
        requesting_org=REQUESTING,
        source_org=SOURCE,
        patient_pseudonym=PATIENT,
        emergency=False,
        purpose=PurposeOfUse.TREAT,
        state=state,
        created_at=NOW,
        updated_at=NOW,
        consent_deadline=deadline,
        last_transition=Transition(
            transfer_id="t-loop-2",
            from_state=None,
            to_state=state,
            action=Action.CREATE,
            actor=HP,
            at=NOW,
        ),
    )


def committed(tx_id: str, state: TransferState, deadline: datetime | None = None) -> bytes:
    report = TransactionCommitted(
        correlation_id="t-loop-2",
        command_event_id="e",
        tx_id=tx_id,
        block_number=1,
        result=TxResult(tx_id=tx_id, op="apply", transfer=transfer(state, deadline)),
    )
    return report.model_dump_json().encode()


async def test_an_expiry_the_ledger_knows_no_transfer_for_clears_its_deadline() -> None:
    deadlines = ConsentDeadlines()
    producer = FakeProducer()
    outbox = Outbox(producer)
    reactions = Reactions(InMemoryRecords({}), deadlines, SUBMIT)
    due = NOW + timedelta(hours=1)
    accepted = committed("tx-a", TransferState.RISK_ACCEPTED, due)
    await reactions.react_to_commit(record(LEDGER_BLOCKS.name, 4, 10, accepted), outbox)
    refused = (
        CommandRejected(
            correlation_id="t-loop-2",
            command_event_id="e-expire",
            code="UNKNOWN_TRANSFER",
            reason="no transfer t-loop-2",
        )
        .model_dump_json()
        .encode()
    )

    await reactions.react_to_commit(record(LEDGER_BLOCKS.name, 4, 11, refused), outbox)

    assert deadlines.overdue(due + timedelta(days=1)) == []
    assert producer.on(CONSENT_DEADLINES.name)[-1] is None  # a tombstone in the changelog


async def test_a_consent_deadline_is_written_to_the_changelog_on_the_blocks_partition() -> None:
    deadlines = ConsentDeadlines()
    producer = FakeProducer()
    outbox = Outbox(producer)
    reactions = Reactions(InMemoryRecords({SOURCE: {PATIENT}}), deadlines, SUBMIT)
    due = NOW + timedelta(hours=1)
    accepted = record(
        LEDGER_BLOCKS.name, 4, 10, committed("tx-a", TransferState.RISK_ACCEPTED, due)
    )
    await reactions.react_to_commit(accepted, outbox)
    await reactions.react_to_commit(accepted, outbox)  # redelivered: nothing new to write
    [(topic, value, key, partition)] = producer.sent
    assert (topic, partition, key) == (CONSENT_DEADLINES.name, 4, b'"t-loop-2"')
    assert json.loads(value or b"") == {"source_org": SOURCE, "at": due.isoformat()}

    granted = record(LEDGER_BLOCKS.name, 4, 11, committed("tx-b", TransferState.PATIENT_ACCEPTED))
    await reactions.react_to_commit(granted, outbox)
    assert producer.on(CONSENT_DEADLINES.name) == [value, None]  # a tombstone clears it
    [declare] = producer.on(LEDGER_COMMANDS.for_org(SOURCE).name)
    tx = LedgerCommand.model_validate_json(declare or b"").tx
    assert isinstance(tx, ApplyActionTx)
    assert tx.action is Action.DECLARE_AVAILABLE
    assert deadlines.get("t-loop-2") is None


def test_the_changelog_replays_into_the_same_deadlines_including_fausts_records() -> None:
    written = ConsentDeadlines()
    changes = [
        written.track(ConsentDeadline("t-1", SOURCE, NOW)),
        written.track(ConsentDeadline("t-2", SOURCE, NOW + timedelta(hours=1))),
        written.track(ConsentDeadline("t-1", SOURCE, None)),
        written.track(ConsentDeadline("t-unknown", SOURCE, None)),
    ]
    assert changes[3] is None
    restored = ConsentDeadlines()
    for change in changes:
        if change is not None:
            restored.restore(change.key, change.value)
    restored.restore(b'"t-3"', b'{"source_org":"SE-KI","at":"2026-05-01T00:00:00+00:00"}')
    restored.restore(b'"t-3"', b"null")  # how the faust table cleared an entry
    restored.restore(b"garbage", b"{")  # skipped, not fatal
    assert restored.get("t-1") is None
    assert restored.get("t-2") == written.get("t-2")
    assert restored.get("t-3") is None
    assert len(restored) == 1


async def test_overdue_consents_are_expired_with_stable_event_ids() -> None:
    deadlines = ConsentDeadlines()
    deadlines.track(ConsentDeadline("t-late-0001", SOURCE, NOW - timedelta(seconds=1)))
    deadlines.track(ConsentDeadline("t-early-0001", SOURCE, NOW + timedelta(hours=1)))
    deadlines.restore(b'"bad id"', b'{"source_org":"SE-KI","at":"2026-01-01T00:00:00+00:00"}')
    producer = FakeProducer()
    ticks = []
    for _ in range(2):
        ticking = asyncio.create_task(expire_overdue(deadlines, producer, SUBMIT, NOW))
        await until(lambda: producer.pending)
        producer.release()
        ticks.append(await ticking)
    assert ticks == [1, 1]
    first, again = (
        LedgerCommand.model_validate_json(v or b"")
        for v in producer.on(LEDGER_COMMANDS.for_org(SOURCE).name)
    )
    assert first.event_id == again.event_id
    assert first.correlation_id == "t-late-0001"
    assert isinstance(first.tx, ApplyActionTx)
    assert first.tx.action is Action.EXPIRE
    assert first.actor == system_actor(SOURCE)


async def test_an_overdue_review_is_flagged_and_its_kind_survives_the_changelog() -> None:
    written = ConsentDeadlines()
    change = written.track(
        ConsentDeadline("t-review-0001", SOURCE, NOW - timedelta(seconds=1), "review")
    )
    assert change is not None
    deadlines = ConsentDeadlines()
    deadlines.restore(change.key, change.value)
    producer = FakeProducer()
    ticking = asyncio.create_task(expire_overdue(deadlines, producer, SUBMIT, NOW))
    await until(lambda: producer.pending)
    producer.release()
    assert await ticking == 1
    (sent,) = producer.on(LEDGER_COMMANDS.for_org(SOURCE).name)
    command = LedgerCommand.model_validate_json(sent or b"")
    assert command.tx == FlagReviewOverdueTx(transfer_id="t-review-0001")
    assert command.actor == system_actor(SOURCE)
