"""The faust app: thin agents around the pure intake and reaction functions.

At-least-once delivery: faust flushes the producer before it commits offsets, so a
command is on ``curex.ledger.commands`` before its input is marked done. Exactly-once
effects come from the contract's idempotency on event ids.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import faust
import structlog

from processors.handling import handle_message
from processors.intake import ledger_command_for, ledger_command_for_assessment
from processors.reactions import expire_command, react
from processors.records import RecordsSystem
from processors.settings import ProcessorSettings
from schemas import (
    CONSENT_DECISION,
    LEDGER_REPORT,
    TRANSFER_REQUEST,
    LedgerCommand,
    RiskAssessment,
    TransactionCommitted,
    dead_letter_for,
)
from schemas.topics import (
    CONSENT_DECISIONS,
    DEADLETTER,
    LEDGER_BLOCKS,
    LEDGER_COMMANDS,
    RISK_SCORES,
    TRANSFER_REQUESTS,
)

log = structlog.get_logger()


def create_app(settings: ProcessorSettings, records: RecordsSystem) -> faust.App:
    app = faust.App(
        settings.processors_app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",
        datadir=str(settings.worker_dir),
        web_host="127.0.0.1",
        web_bind="127.0.0.1",
        web_port=settings.processors_health_port,
        topic_partitions=LEDGER_BLOCKS.partitions,
        topic_replication_factor=1,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=0.5,
        # Static membership: a restarted worker takes its partitions back at once instead
        # of waiting for the dead member's session to time out.
        consumer_group_instance_id=settings.processors_instance_id,
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        autodiscover=False,
    )

    def topic(name: str) -> faust.TopicT:
        return app.topic(
            name, key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw"
        )

    requests, consents, scores = (
        topic(t.name) for t in (TRANSFER_REQUESTS, CONSENT_DECISIONS, RISK_SCORES)
    )
    blocks, commands, deadletters = (
        topic(t.name) for t in (LEDGER_BLOCKS, LEDGER_COMMANDS, DEADLETTER)
    )
    deadlines = app.Table("consent-deadlines", default=None, partitions=LEDGER_BLOCKS.partitions)

    async def submit(command: LedgerCommand) -> None:
        structlog.contextvars.bind_contextvars(
            correlation_id=command.correlation_id, event_id=str(command.event_id)
        )
        await commands.send(
            key=command.correlation_id.encode(), value=command.model_dump_json().encode()
        )

    async def dead_letter(event: faust.EventT[bytes], error: str) -> None:
        message = event.message
        letter = dead_letter_for(
            message.topic, message.partition, message.offset, message.key, message.value, error
        )
        log.warning(
            "dead-lettered", topic=message.topic, partition=message.partition, offset=message.offset
        )
        await deadletters.send(key=message.key, value=letter.model_dump_json().encode())

    async def consume(
        stream: faust.StreamT[bytes], *, handler: Callable[[bytes], Awaitable[None]]
    ) -> None:
        async for event in stream.events():
            message = event.message
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(
                topic=message.topic, partition=message.partition, offset=message.offset
            )
            outcome = await handle_message(
                partial(handler, event.value), partial(dead_letter, event)
            )
            log.info("message handled", outcome=outcome.value)

    async def intake_request(value: bytes) -> None:
        await submit(ledger_command_for(TRANSFER_REQUEST.validate_json(value)))

    async def intake_consent(value: bytes) -> None:
        await submit(ledger_command_for(CONSENT_DECISION.validate_json(value)))

    async def record_risk_score(value: bytes) -> None:
        assessment = RiskAssessment.model_validate_json(value)
        await submit(ledger_command_for_assessment(assessment))

    async def react_to_commit(value: bytes) -> None:
        report = LEDGER_REPORT.validate_json(value)
        structlog.contextvars.bind_contextvars(correlation_id=report.correlation_id)
        if not isinstance(report, TransactionCommitted) or report.result.transfer is None:
            return
        reaction = react(report.tx_id, report.result.transfer, records)
        for command in reaction.commands:
            await submit(command)
        if reaction.deadline is not None:
            track_deadline(
                reaction.deadline.transfer_id,
                reaction.deadline.source_org,
                reaction.deadline.deadline,
            )

    for source, handler in (
        (requests, intake_request),
        (consents, intake_consent),
        (scores, record_risk_score),
        (blocks, react_to_commit),
    ):
        app.agent(source, name=handler.__name__)(partial(consume, handler=handler))

    def track_deadline(transfer_id: str, source_org: str, deadline: datetime | None) -> None:
        if deadline is None:
            if deadlines.get(transfer_id) is not None:
                deadlines[transfer_id] = None
        else:
            deadlines[transfer_id] = {"source_org": source_org, "at": deadline.isoformat()}

    @app.timer(interval=settings.expiry_check_interval_s)  # type: ignore[untyped-decorator]
    async def expire_overdue_consents() -> None:
        now = datetime.now(UTC)
        overdue: list[tuple[str, dict[str, Any]]] = [
            (transfer_id, entry)
            for transfer_id, entry in list(deadlines.items())
            if entry is not None and datetime.fromisoformat(entry["at"]) <= now
        ]
        for transfer_id, entry in overdue:
            await submit(
                expire_command(
                    transfer_id, entry["source_org"], datetime.fromisoformat(entry["at"])
                )
            )
        if overdue:
            log.info("expiry requested", transfers=len(overdue))

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        return web.json({"status": "ok"})

    return app
