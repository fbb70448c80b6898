"""The ledger gateway: ledger commands in, committed transactions out.

Two loops. ``CommandIntake`` submits each polled batch to the ledger and commits the
Kafka offsets only once the ledger has made it durable; rejections are reported on
``curex.ledger.blocks``. ``BlockPublisher`` follows the ledger's committed transactions
and publishes each one its organisation signed (every committed transaction is published
by exactly one gateway: its signer's), checkpointing after Kafka acknowledged them, so a
crash anywhere
repeats work (absorbed by the idempotent contract and by tx ids) but never loses it.
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
            log.info("batch submitted", commands=len(commands), records=len(records))
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
    ) -> None:
        self._ledger = ledger
        self._producer = producer
        self._checkpoint = checkpoint
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
        saving: asyncio.Task[None] | None = None
        try:
            while True:
                self._committed.clear()
                page = await self._page(position)
                if page.frontier is None:
                    # Also poll once a second, in case a commit's signal was missed.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._committed.wait(), timeout=1.0)
                    continue
                await asyncio.gather(*[await self._publish(tx) for tx in page.txs])
                position = page.frontier
                # Kafka holds the batch: its checkpoint is written (fsync) while the next
                # batch is read and published; checkpoints still land in order.
                if saving is not None:
                    await saving
                saving = asyncio.create_task(asyncio.to_thread(self._checkpoint.save, *position))
                PUBLISHED.inc(len(page.txs))
        finally:
            if saving is not None:
                with contextlib.suppress(Exception):
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
