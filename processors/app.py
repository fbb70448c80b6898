"""The processors' handlers: thin I/O around the pure intake and reaction functions.

Intake turns requests, consent decisions and risk scores into ledger commands; the
reactions follow ``curex.ledger.blocks`` and derive what the platform does next; the
expiry timer asks the ledger to expire consents not given in time. Everything goes out
through an ``Outbox`` whose deliveries are awaited before the input is committed
(at-least-once); exactly-once effects come from the contract's idempotency on event ids.
"""

from datetime import UTC, datetime

import structlog
from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

from processors.consuming import Handler, Record
from processors.deadlines import CONSENT_DEADLINES, ConsentDeadlines
from processors.intake import ledger_command_for, ledger_command_for_assessment
from processors.reactions import expire_command, react
from processors.records import RecordsSystem
from schemas import (
    CONSENT_DECISION,
    LEDGER_REPORT,
    TRANSFER_REQUEST,
    LedgerCommand,
    RiskAssessment,
    TransactionCommitted,
)
from schemas.topics import (
    CONSENT_DECISIONS,
    LEDGER_BLOCKS,
    LEDGER_COMMANDS,
    RISK_SCORES,
    TRANSFER_REQUESTS,
)
from service_runtime.outbox import Outbox

log = structlog.get_logger()


async def submit(outbox: Outbox, command: LedgerCommand) -> None:
    structlog.contextvars.bind_contextvars(
        correlation_id=command.correlation_id, event_id=str(command.event_id)
    )
    await outbox.send(LEDGER_COMMANDS.name, command, command.correlation_id.encode())


async def intake_request(record: Record, outbox: Outbox) -> None:
    await submit(outbox, ledger_command_for(TRANSFER_REQUEST.validate_json(record.value or b"")))


async def intake_consent(record: Record, outbox: Outbox) -> None:
    await submit(outbox, ledger_command_for(CONSENT_DECISION.validate_json(record.value or b"")))


async def record_risk_score(record: Record, outbox: Outbox) -> None:
    assessment = RiskAssessment.model_validate_json(record.value or b"")
    await submit(outbox, ledger_command_for_assessment(assessment))


INTAKE_HANDLERS: dict[str, Handler] = {
    TRANSFER_REQUESTS.name: intake_request,
    CONSENT_DECISIONS.name: intake_consent,
    RISK_SCORES.name: record_risk_score,
}


class Reactions:
    """What follows a committed transaction, and the consent deadlines it sets."""

    def __init__(self, records: RecordsSystem, deadlines: ConsentDeadlines) -> None:
        self._records = records
        self._deadlines = deadlines

    def handlers(self) -> dict[str, Handler]:
        return {LEDGER_BLOCKS.name: self.react_to_commit}

    async def react_to_commit(self, record: Record, outbox: Outbox) -> None:
        report = LEDGER_REPORT.validate_json(record.value or b"")
        structlog.contextvars.bind_contextvars(correlation_id=report.correlation_id)
        if not isinstance(report, TransactionCommitted) or report.result.transfer is None:
            return
        reaction = react(report.tx_id, report.result.transfer, self._records)
        for command in reaction.commands:
            await submit(outbox, command)
        if reaction.deadline is not None:
            change = self._deadlines.track(reaction.deadline)
            if change is not None:
                # The block's partition: one transfer's deadlines stay on one partition.
                await outbox.send_raw(
                    CONSENT_DEADLINES.name, change.value, change.key, record.partition
                )


async def expire_overdue(
    deadlines: ConsentDeadlines, producer: AIOKafkaProducer, now: datetime | None = None
) -> int:
    """Asks the ledger to expire every overdue consent; returns how many it asked for.

    Repeated every tick until the EXPIRED commit clears the deadline: the derived event
    id makes the repeats replays.
    """
    overdue = deadlines.overdue(now or datetime.now(UTC))
    if not overdue:
        return 0
    outbox = Outbox(producer)
    requested = 0
    for transfer_id, pending in overdue:
        try:
            command = expire_command(transfer_id, pending.source_org, pending.at)
        except ValidationError:
            # Only a damaged changelog record can name no valid transfer: never retry it.
            log.warning("unusable consent deadline dropped")
            deadlines.discard(transfer_id)
            continue
        await submit(outbox, command)
        requested += 1
    await outbox.delivered()
    structlog.contextvars.clear_contextvars()
    if requested:
        log.info("expiry requested", transfers=requested)
    return requested
