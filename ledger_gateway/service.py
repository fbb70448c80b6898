"""The ledger gateway: ledger commands in, committed transactions out.

Two loops. ``CommandIntake`` submits each polled batch to the ledger and commits the
Kafka offsets only once the ledger has made it durable; rejections are reported on
``curex.ledger.blocks``. ``BlockPublisher`` follows the ledger's committed transactions
and publishes each one its organisation signed (every committed transaction is published
by exactly one gateway: its signer's), checkpointing (at most every
``CHECKPOINT_INTERVAL_S``) after Kafka acknowledged them, so a crash anywhere repeats work
(absorbed by the idempotent contract and by tx ids) but never loses it.
"""

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from typing import Protocol, runtime_checkable
from uuid import NAMESPACE_URL, uuid5

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from pydantic import ValidationError

from ledger_gateway.checkpoint import PublishCheckpoint
from ledger_gateway.metrics import BATCH_SIZE, COMMANDS, PUBLISHED, SUBMIT_SECONDS
from ledger_gateway.port import CommittedTx, Ledger, Rejected, SignedPage
from schemas import (
    LEDGER_COMMAND,
    CommandRejected,
    LedgerCommand,
    TransactionCommitted,
)
from schemas.topics import LEDGER_BLOCKS
from service_runtime.consuming import consume_and_commit
from service_runtime.kafka_producer import send
from service_runtime.message_handling import describe_invalid
from service_runtime.outbox import Outbox

log = structlog.get_logger()
_PAGE = 2000  # transactions read per page of the block stream
# The publish checkpoint is written at most this often: an fsync and a rename per small
# batch cost the gateway a tenth of its CPU. A crash republishes at most this much more,
# under the same event ids.
CHECKPOINT_INTERVAL_S = 0.2


class CommandIntake:
    def __init__(
        self,
        ledger: Ledger,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        committed: asyncio.Event,
        max_batch: int,
        *,
        blocks_topic: str = LEDGER_BLOCKS.name,
    ) -> None:
        self._ledger = ledger
        self._consumer = consumer
        self._producer = producer
        self._committed = committed
        self._max_batch = max_batch
        self._blocks_topic = blocks_topic

    async def run(self) -> None:
        # A batch's offsets are committed once it is durable on the ledger.
        await consume_and_commit(
            self._consumer,
            lambda polled: self.handle([r for batch in polled.values() for r in batch]),
            self._max_batch,
        )

    async def handle(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        commands: list[LedgerCommand] = []
        outbox = Outbox(self._producer)
        for record in records:
            try:
                commands.append(LEDGER_COMMAND.validate_json(record.value or b""))
            except ValidationError as error:
                await outbox.dead_letter(record, f"invalid message: {describe_invalid(error)}")
        if commands:
            started = time.perf_counter()
            outcomes = await self._ledger.submit(commands)
            SUBMIT_SECONDS.observe(time.perf_counter() - started)
            BATCH_SIZE.observe(len(commands))
            self._committed.set()
            for outcome in outcomes:
                if isinstance(outcome, Rejected):
                    COMMANDS.labels("rejected").inc()
                    await self._report_rejection(outbox, outcome)
                else:
                    COMMANDS.labels("replayed" if outcome.replayed else "committed").inc()
            # Debug: at low rates a line per batch is one per command (metrics count them).
            log.debug("batch submitted", commands=len(commands), records=len(records))
        await outbox.delivered()

    async def _report_rejection(self, outbox: Outbox, rejected: Rejected) -> None:
        command = rejected.command
        report = CommandRejected(
            correlation_id=command.correlation_id,
            command_event_id=str(command.event_id),
            code=rejected.error.code,
            reason=rejected.error.reason,
            current_state=rejected.error.current_state,
        )
        log.info(
            "command rejected",
            correlation_id=command.correlation_id,
            event_id=str(command.event_id),
            code=rejected.error.code,
        )
        await outbox.send(self._blocks_topic, report, command.correlation_id.encode())


@runtime_checkable
class SignedStream(Protocol):
    """A ledger that finds one member's transactions itself (the embedded one can)."""

    async def signed_after(
        self, signer: str, with_unsigned: bool, after: tuple[int, int], limit: int
    ) -> SignedPage: ...


class BlockPublisher:
    def __init__(
        self,
        ledger: Ledger | SignedStream,
        producer: AIOKafkaProducer,
        checkpoint: PublishCheckpoint,
        committed: asyncio.Event,
        *,
        publishes_for: str,
        publishes_unsigned: bool = False,
        blocks_topic: str = LEDGER_BLOCKS.name,
        checkpoint_every_s: float = CHECKPOINT_INTERVAL_S,
    ) -> None:
        self._ledger = ledger
        self._producer = producer
        self._checkpoint = checkpoint
        self._checkpoint_every_s = checkpoint_every_s
        self._committed = committed
        self._publishes_for = publishes_for
        self._publishes_unsigned = publishes_unsigned
        self._blocks_topic = blocks_topic

    def _ours(self, tx: CommittedTx) -> bool:
        if tx.signer is None:
            return self._publishes_unsigned
        return tx.signer == self._publishes_for

    async def _page(self, after: tuple[int, int]) -> SignedPage:
        """This member's transactions after ``after``, and how far the ledger was read."""
        if isinstance(self._ledger, SignedStream):
            return await self._ledger.signed_after(
                self._publishes_for, self._publishes_unsigned, after, _PAGE
            )
        batch = await self._ledger.committed_after(*after, _PAGE)
        if not batch:
            return SignedPage([], None)
        frontier = (batch[-1].block_number, batch[-1].position)
        return SignedPage([tx for tx in batch if self._ours(tx)], frontier)

    async def run(self) -> None:
        position = self._checkpoint.load()
        saved = position
        saved_at = time.monotonic()
        saving: asyncio.Task[None] | None = None

        async def save() -> None:
            nonlocal saved, saved_at, saving
            # Kafka holds everything up to ``position``: its checkpoint is written (fsync)
            # while the next batch is read and published; checkpoints still land in order.
            if saving is not None:
                await saving
            saving = asyncio.create_task(asyncio.to_thread(self._checkpoint.save, *position))
            saved, saved_at = position, time.monotonic()

        try:
            while True:
                self._committed.clear()
                page = await self._page(position)
                due_in = saved_at + self._checkpoint_every_s - time.monotonic()
                if page.frontier is None:
                    if position != saved and due_in <= 0:
                        await save()
                    # Also poll once a second, in case a commit's signal was missed; sooner
                    # when a checkpoint falls due.
                    wait_s = 1.0 if position == saved else max(0.0, min(1.0, due_in))
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._committed.wait(), timeout=wait_s)
                    continue
                await asyncio.gather(*[await self._publish(tx) for tx in page.txs])
                position = page.frontier
                PUBLISHED.inc(len(page.txs))
                if due_in <= 0:
                    await save()
        finally:
            # A stopping gateway records how far it got, so a restart republishes nothing.
            with contextlib.suppress(Exception):
                if position != saved:
                    await save()
                if saving is not None:
                    await saving

    async def _publish(self, tx: CommittedTx) -> Awaitable[object]:
        event = TransactionCommitted(
            # Derived from the tx id, so a republished transaction keeps its event id.
            event_id=uuid5(NAMESPACE_URL, f"curex-tx:{tx.tx_id}"),
            correlation_id=tx.command.correlation_id,
            occurred_at=tx.timestamp,
            command_event_id=str(tx.command.event_id),
            tx_id=tx.tx_id,
            block_number=tx.block_number,
            result=tx.result,
        )
        return await send(
            self._producer, self._blocks_topic, event, tx.command.correlation_id.encode()
        )
