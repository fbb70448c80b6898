"""The ledger gateway's two loops on the real broker: command intake, the block publisher
and its checkpoint, each killed between two of its steps and started again.

The loops run here as the gateway runs them, on scratch topics of the ``bench`` principal
(``curex.bench.<run>.in`` for commands, ``.out`` for block events) and an embedded ledger of
their own, so nothing reaches the stack's workflow. A "kill" is an exception raised at the
chosen step, after which the loop is started again from what it had made durable.

What they pin: a command is on the ledger before its offset is committed, so a kill loses
none and a redelivered one is applied once; a block event is on the broker before the
checkpoint passes it, so a kill loses none, and a kill between the two publishes the same
events again, byte for byte (same event id, tx id and block), for consumers to drop by event
id or tx id as they do.
"""

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from curex.bench.baseline import BaselineTopics, baseline_topics
from infra.kafka.principals import BENCH
from infra.kafka.security import kafka_access
from infra.settings import InfraSettings
from ledger_gateway.checkpoint import PublishCheckpoint
from ledger_gateway.embedded import EmbeddedLedger, EmbeddedLedgerPort
from ledger_gateway.port import Committed, CommittedTx, Ledger, Outcome
from ledger_gateway.service import CHECKPOINT_INTERVAL_S, BlockPublisher, CommandIntake
from schemas import (
    LEDGER_REPORT,
    Action,
    ApplyActionTx,
    AuditRiskTx,
    CommandRejected,
    LedgerCommand,
    Party,
    Role,
    TransactionCommitted,
)
from schemas.topics import TRANSFER_REQUESTS
from service_runtime.consuming import committing_consumer
from service_runtime.kafka_access import KafkaAccess
from service_runtime.kafka_producer import durable_producer
from tests.integration.ledger_commands import (
    MEMBERSHIP,
    NETWORK,
    SIGNERS,
    SignedEmbedded,
    command,
    create,
    seed,
)
from tests.unit.contract_world import REQUESTING, SOURCE, actor_for, system

pytestmark = pytest.mark.integration
WITHIN = 30.0


class Killed(Exception):
    """The process died here."""


@pytest.fixture
def access(stack: InfraSettings) -> KafkaAccess:
    return kafka_access(stack, BENCH)


@pytest.fixture
async def topics(access: KafkaAccess) -> AsyncIterator[BaselineTopics]:
    async with baseline_topics(access, f"gateway-{uuid.uuid4().hex[:8]}") as created:
        yield created


@pytest.fixture
async def producer(access: KafkaAccess) -> AsyncIterator[AIOKafkaProducer]:
    started = durable_producer(access)
    await started.start()
    yield started
    await started.stop()


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + WITHIN
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WITHIN:g} s: {what}")
        await asyncio.sleep(0.1)  # polling a file, the ledger or offsets: not an event to wait for


def scratch_partitions(topic: str) -> list[TopicPartition]:
    """Every partition of a scratch topic (``baseline_topics`` creates them all alike)."""
    return [TopicPartition(topic, p) for p in range(TRANSFER_REQUESTS.partitions)]


async def published(access: KafkaAccess, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` up to its end offsets now."""
    consumer = AIOKafkaConsumer(**access.client_options(), enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = scratch_partitions(topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        deadline = time.monotonic() + WITHIN
        while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            assert time.monotonic() < deadline, f"{topic} not read to its end in time"
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records += batch
        return records
    finally:
        await consumer.stop()


async def run_until(loop: Awaitable[None], done: Callable[[], Awaitable[bool]], what: str) -> None:
    """Run a gateway loop until ``done``, then stop it as a shutdown would."""
    task = asyncio.ensure_future(loop)
    try:
        await eventually(lambda: _done_or_failed(task, done), what)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _done_or_failed(task: asyncio.Future[None], done: Callable[[], Awaitable[bool]]) -> bool:
    if task.done():
        task.result()  # a loop that stopped on its own failed: show why
    return await done()


# ---- block publisher and checkpoint ------------------------------------------------


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    """Transactions signed by both members, over several blocks."""
    path = tmp_path / "ledger.sqlite"
    ledger = SignedEmbedded(path)
    seed(ledger)
    ids = [f"t-publish-{n:04d}" for n in range(6)]
    for batch in (
        [create(t) for t in ids[:3]],
        [command(system(SOURCE), AuditRiskTx(transfer_id=t), t) for t in ids[:3]],
        [create(t) for t in ids[3:]],
    ):
        assert all(isinstance(o, Committed) for o in ledger.submit(batch))
    ledger.close()
    return path


def reader(path: Path) -> EmbeddedLedgerPort:
    return EmbeddedLedgerPort(EmbeddedLedger(path, NETWORK, MEMBERSHIP))


@pytest.fixture
def readers() -> Iterator[list[EmbeddedLedgerPort]]:
    """The publishers' ledger connections, closed after the test."""
    opened: list[EmbeddedLedgerPort] = []
    yield opened
    for port in opened:
        port.close()


async def committed(path: Path) -> list[CommittedTx]:
    port = reader(path)
    try:
        return await port.committed_after(-1)
    finally:
        port.close()


def publisher(
    readers: list[EmbeddedLedgerPort],
    path: Path,
    producer: Any,
    checkpoint: PublishCheckpoint,
    topics: BaselineTopics,
    checkpoint_every_s: float = CHECKPOINT_INTERVAL_S,
) -> BlockPublisher:
    readers.append(reader(path))
    return BlockPublisher(
        readers[-1],
        producer,
        checkpoint,
        asyncio.Event(),
        publishes_for=REQUESTING,
        blocks_topic=topics.sink,
        checkpoint_every_s=checkpoint_every_s,
    )


def reports(records: list[ConsumerRecord[bytes, bytes]]) -> list[TransactionCommitted]:
    parsed = [LEDGER_REPORT.validate_json(r.value or b"") for r in records]
    assert all(isinstance(p, TransactionCommitted) for p in parsed)
    return [p for p in parsed if isinstance(p, TransactionCommitted)]


def at_end(checkpoint: PublishCheckpoint, last: CommittedTx) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return checkpoint.load() == (last.block_number, last.position)

    return check


async def test_the_publisher_sends_each_transaction_its_organisation_signed_then_checkpoints(
    ledger_path: Path,
    tmp_path: Path,
    topics: BaselineTopics,
    producer: AIOKafkaProducer,
    access: KafkaAccess,
    readers: list[EmbeddedLedgerPort],
) -> None:
    everything = await committed(ledger_path)
    ours = [tx for tx in everything if tx.signer == REQUESTING]
    assert 0 < len(ours) < len(everything)  # the other member's are not this gateway's
    checkpoint = PublishCheckpoint(tmp_path / "checkpoint.json")

    loop = publisher(readers, ledger_path, producer, checkpoint, topics).run()
    await run_until(loop, at_end(checkpoint, everything[-1]), "checkpoint at the last transaction")

    sent = reports(await published(access, topics.sink))
    assert sorted(r.tx_id for r in sent) == sorted(tx.tx_id for tx in ours)
    for report in sent:
        tx = next(t for t in ours if t.tx_id == report.tx_id)
        assert report.event_id == uuid5(NAMESPACE_URL, f"curex-tx:{tx.tx_id}")
        assert (report.block_number, report.command_event_id) == (
            tx.block_number,
            str(tx.command.event_id),
        )
        assert report.result == tx.result


class CountedCheckpoint(PublishCheckpoint):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.saves: list[tuple[int, int]] = []

    def save(self, block_number: int, position: int) -> None:
        self.saves.append((block_number, position))
        super().save(block_number, position)


async def test_the_checkpoint_waits_for_its_interval_and_is_written_when_the_publisher_stops(
    ledger_path: Path,
    tmp_path: Path,
    topics: BaselineTopics,
    producer: AIOKafkaProducer,
    access: KafkaAccess,
    readers: list[EmbeddedLedgerPort],
) -> None:
    everything = await committed(ledger_path)
    ours = [tx for tx in everything if tx.signer == REQUESTING]
    checkpoint = CountedCheckpoint(tmp_path / "checkpoint.json")
    loop = publisher(readers, ledger_path, producer, checkpoint, topics, 3600).run()

    saved_while_running: list[tuple[int, int]] = []

    async def all_published() -> bool:
        if len(await published(access, topics.sink)) < len(ours):
            return False
        saved_while_running.extend(checkpoint.saves)
        return True

    await run_until(loop, all_published, "every transaction published")

    assert saved_while_running == []  # nothing fell due while it ran
    # Stopping wrote where it had got to, once.
    assert checkpoint.saves == [(everything[-1].block_number, everything[-1].position)]


async def test_a_publisher_started_again_resumes_after_its_checkpoint(
    ledger_path: Path,
    tmp_path: Path,
    topics: BaselineTopics,
    producer: AIOKafkaProducer,
    access: KafkaAccess,
    readers: list[EmbeddedLedgerPort],
) -> None:
    checkpoint = PublishCheckpoint(tmp_path / "checkpoint.json")
    first = await committed(ledger_path)
    loop = publisher(readers, ledger_path, producer, checkpoint, topics).run()
    await run_until(loop, at_end(checkpoint, first[-1]), "first run checkpointed")
    ledger = SignedEmbedded(ledger_path)
    ledger.submit([create("t-publish-late")])
    ledger.close()
    everything = await committed(ledger_path)

    loop = publisher(readers, ledger_path, producer, checkpoint, topics).run()
    await run_until(loop, at_end(checkpoint, everything[-1]), "second run checkpointed")

    sent = [r.tx_id for r in reports(await published(access, topics.sink))]
    assert sorted(sent) == sorted(tx.tx_id for tx in everything if tx.signer == REQUESTING)


class DiesOnSave(PublishCheckpoint):
    """The process dies as it is about to write the checkpoint (``save`` may run in a
    worker thread, beside the next read, so the death is seen through ``died``)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.died = threading.Event()

    def save(self, block_number: int, position: int) -> None:
        self.died.set()
        raise Killed("killed after publishing, before the checkpoint")


async def life_until_killed(loop: Awaitable[None], dying: DiesOnSave) -> None:
    """Run the publisher until it dies at its checkpoint; what it was doing then stops."""
    task = asyncio.ensure_future(loop)

    async def died() -> bool:
        return dying.died.is_set() or task.done()

    try:
        await eventually(died, "the publisher reached its checkpoint")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Killed):
            await task
    assert dying.died.is_set()


async def test_a_kill_between_publishing_and_checkpointing_publishes_the_same_events_again(
    ledger_path: Path,
    tmp_path: Path,
    topics: BaselineTopics,
    producer: AIOKafkaProducer,
    access: KafkaAccess,
    readers: list[EmbeddedLedgerPort],
) -> None:
    everything = await committed(ledger_path)
    ours = {tx.tx_id for tx in everything if tx.signer == REQUESTING}
    path = tmp_path / "checkpoint.json"
    dying = DiesOnSave(path)
    await life_until_killed(publisher(readers, ledger_path, producer, dying, topics).run(), dying)
    assert not path.exists()

    checkpoint = PublishCheckpoint(path)
    loop = publisher(readers, ledger_path, producer, checkpoint, topics).run()
    await run_until(loop, at_end(checkpoint, everything[-1]), "checkpoint after the restart")

    records = await published(access, topics.sink)
    by_tx: dict[str, list[bytes]] = {}
    for record, report in zip(records, reports(records), strict=True):
        by_tx.setdefault(report.tx_id, []).append(record.value or b"")
    assert set(by_tx) == ours
    # At least once: each event twice, identical, so consumers drop the repeat by event id.
    assert all(len(copies) == 2 and copies[0] == copies[1] for copies in by_tx.values())


class DiesAfterSends:
    """The gateway's producer, killed after ``sends`` records were handed to it."""

    def __init__(self, producer: AIOKafkaProducer, sends: int) -> None:
        self._producer = producer
        self._left = sends

    async def send(self, topic: str, value: bytes, key: bytes | None = None) -> Any:
        if self._left == 0:
            raise Killed("killed while publishing a block")
        self._left -= 1
        return await self._producer.send(topic, value, key=key)


async def test_a_kill_while_publishing_loses_no_transaction(
    ledger_path: Path,
    tmp_path: Path,
    topics: BaselineTopics,
    producer: AIOKafkaProducer,
    access: KafkaAccess,
    readers: list[EmbeddedLedgerPort],
) -> None:
    everything = await committed(ledger_path)
    ours = {tx.tx_id for tx in everything if tx.signer == REQUESTING}
    checkpoint = PublishCheckpoint(tmp_path / "checkpoint.json")
    with pytest.raises(Killed):
        await publisher(
            readers, ledger_path, DiesAfterSends(producer, len(ours) // 2), checkpoint, topics
        ).run()

    loop = publisher(readers, ledger_path, producer, checkpoint, topics).run()
    await run_until(loop, at_end(checkpoint, everything[-1]), "checkpoint after the restart")

    assert {r.tx_id for r in reports(await published(access, topics.sink))} == ours


# ---- command intake -----------------------------------------------------------------


class DiesOnSubmit:
    """The gateway's ledger port, killed once: before the ledger commits, or just after."""

    def __init__(self, ledger: Ledger, *, after_commit: bool) -> None:
        self._ledger = ledger
        self._after_commit = after_commit
        self.armed = True

    async def submit(self, commands: list[LedgerCommand]) -> list[Outcome]:
        if self.armed:
            self.armed = False
            if self._after_commit:
                await self._ledger.submit(commands)
            raise Killed("killed while submitting a batch")
        return await self._ledger.submit(commands)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ledger, name)


def intake_commands() -> list[LedgerCommand]:
    """Creates the contract accepts and one it refuses, all signed by SE-KI's gateway."""
    ids = [f"t-intake-{n:04d}" for n in range(5)]
    refused = command(
        actor_for(Role.HEALTH_PROFESSIONAL, Party.REQUESTING_ORG),
        ApplyActionTx(transfer_id=ids[0], action=Action.MARK_RECEIVED),
        ids[0],
    )
    return [*(create(t) for t in ids), refused]


async def send_commands(
    producer: AIOKafkaProducer, topic: str, commands: list[LedgerCommand]
) -> None:
    for each in commands:
        await producer.send_and_wait(
            topic, each.model_dump_json().encode(), key=each.correlation_id.encode()
        )


@pytest.fixture
def gateway_ledger(tmp_path: Path) -> Iterator[EmbeddedLedgerPort]:
    path = tmp_path / "intake.sqlite"
    seeding = SignedEmbedded(path)
    seed(seeding)
    seeding.close()
    port = EmbeddedLedgerPort(EmbeddedLedger(path, NETWORK, MEMBERSHIP), SIGNERS[REQUESTING])
    yield port
    port.close()


async def run_intake(
    ledger: Any,
    access: KafkaAccess,
    producer: AIOKafkaProducer,
    topics: BaselineTopics,
    group: str,
    done: Callable[[], Awaitable[bool]] | None = None,
) -> None:
    """One life of the gateway's intake: until ``done``, or until it is killed."""
    consumer = committing_consumer(access, [topics.source], group, None, 100)
    await consumer.start()
    try:
        intake = CommandIntake(
            ledger, consumer, producer, asyncio.Event(), 100, blocks_topic=topics.sink
        )
        if done is None:
            await intake.run()
        else:
            await run_until(intake.run(), done, "intake caught up")
    finally:
        await consumer.stop()


def caught_up(
    access: KafkaAccess, topics: BaselineTopics, group: str, commands: list[LedgerCommand]
) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await committed_offsets(access, topics, group) == len(commands)

    return check


async def created(ledger: EmbeddedLedgerPort, commands: list[LedgerCommand]) -> set[str]:
    ids = {c.correlation_id for c in commands}
    return {t for t in ids if await ledger.transfer(t) is not None}


async def committed_offsets(access: KafkaAccess, topics: BaselineTopics, group: str) -> int:
    consumer = AIOKafkaConsumer(**access.client_options(), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = scratch_partitions(topics.source)
        consumer.assign(partitions)
        return sum([await consumer.committed(tp) or 0 for tp in partitions])
    finally:
        await consumer.stop()


async def assert_each_applied_once(
    ledger: EmbeddedLedgerPort,
    commands: list[LedgerCommand],
    access: KafkaAccess,
    topics: BaselineTopics,
) -> None:
    for each in commands[:-1]:
        history = await ledger.history(each.correlation_id)
        assert [h.transition.action for h in history] == [Action.CREATE]
    rejections = [
        r
        for r in (
            LEDGER_REPORT.validate_json(x.value or b"")
            for x in await published(access, topics.sink)
        )
        if isinstance(r, CommandRejected)
    ]
    assert [(r.command_event_id, r.code) for r in rejections] == [
        (str(commands[-1].event_id), "ILLEGAL_TRANSITION")
    ]


async def test_intake_puts_its_topics_commands_on_the_ledger_and_then_commits_their_offsets(
    gateway_ledger: EmbeddedLedgerPort,
    access: KafkaAccess,
    producer: AIOKafkaProducer,
    topics: BaselineTopics,
) -> None:
    commands = intake_commands()
    height = await gateway_ledger.height()
    await send_commands(producer, topics.source, commands)
    group = f"curex-bench-intake-{uuid.uuid4().hex[:8]}"

    await run_intake(
        gateway_ledger, access, producer, topics, group, caught_up(access, topics, group, commands)
    )

    assert await gateway_ledger.height() > height
    await assert_each_applied_once(gateway_ledger, commands, access, topics)


@pytest.mark.parametrize("after_commit", [False, True], ids=["before", "after"])
async def test_a_kill_around_the_ledgers_commit_neither_loses_nor_repeats_a_command(
    gateway_ledger: EmbeddedLedgerPort,
    access: KafkaAccess,
    producer: AIOKafkaProducer,
    topics: BaselineTopics,
    after_commit: bool,
) -> None:
    commands = intake_commands()
    await send_commands(producer, topics.source, commands)
    group = f"curex-bench-intake-{uuid.uuid4().hex[:8]}"
    dying = DiesOnSubmit(gateway_ledger, after_commit=after_commit)
    with pytest.raises(Killed):
        await run_intake(dying, access, producer, topics, group)
    assert await committed_offsets(access, topics, group) == 0
    # The kill landed where it was meant to: the batch on the ledger already, or not.
    assert bool(await created(gateway_ledger, commands)) is after_commit

    await run_intake(
        gateway_ledger, access, producer, topics, group, caught_up(access, topics, group, commands)
    )

    # Redelivered after the kill: applied now, or replayed by the contract without a repeat.
    await assert_each_applied_once(gateway_ledger, commands, access, topics)
