"""The processors' handlers: thin I/O around the pure intake and reaction functions.

Intake turns requests, consent decisions and risk scores into ledger commands; the
reactions follow ``curex.ledger.blocks`` and derive what the platform does next; the
expiry timer asks the ledger to expire consents not given in time. Everything goes out
through an ``Outbox`` whose deliveries are awaited before the input is committed
(at-least-once); exactly-once effects come from the contract's idempotency on event ids.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import structlog
from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

from processors.consuming import Handler, Record
from processors.deadlines import CONSENT_DEADLINES, ConsentDeadlines
from processors.feedback import feedback_for
from processors.intake import (
    ledger_command_for,
    ledger_command_for_assessment,
    ledger_command_for_safeguards,
)
from processors.reactions import ConsentDeadline, expire_command, flag_review_command, react
from processors.records import RecordsSystem
from schemas import (
    CONSENT_DECISION,
    LEDGER_REPORT,
    TRANSFER_REQUEST,
    CommandRejected,
    LedgerCommand,
    RiskAssessment,
    SafeguardResult,
    Transfer,
)
from schemas.network import Network
from schemas.topics import (
    CONSENT_DECISIONS,
    FEEDBACK,
    LEDGER_BLOCKS,
    LEDGER_COMMANDS,
    RISK_SCORES,
    SAFEGUARDS,
    TRANSFER_REQUESTS,
    risk_orgs,
)
from service_runtime.errors import MessageError
from service_runtime.outbox import Outbox

log = structlog.get_logger()
UNKNOWN_TRANSFER = "UNKNOWN_TRANSFER"


FeedMessage = TypeVar("FeedMessage", RiskAssessment, SafeguardResult)


class Unroutable(MessageError):
    """No member of the network may sign for the command's organisation."""


class ForeignAssessment(MessageError):
    """A feed sent a score or safeguard result for an organisation other than its own."""


class Submitter:
    """Sends a ledger command to the gateway of the member that signs for its actor."""

    def __init__(self, network: Network) -> None:
        self.network = network

    async def __call__(self, outbox: Outbox, command: LedgerCommand) -> None:
        structlog.contextvars.bind_contextvars(
            correlation_id=command.correlation_id, event_id=str(command.event_id)
        )
        host = self.network.host_of(command.actor.org)
        if host is None:
            raise Unroutable(f"no member of the network signs for {command.actor.org}")
        topic = LEDGER_COMMANDS.for_org(host).name
        await outbox.send(topic, command, command.correlation_id.encode())


def intake_handlers(submit: Submitter) -> dict[str, Handler]:
    """Requests, consent decisions and each organisation's risk-score topic."""

    async def intake_request(record: Record, outbox: Outbox) -> None:
        command = TRANSFER_REQUEST.validate_json(record.value or b"")
        await submit(outbox, ledger_command_for(command))

    async def intake_consent(record: Record, outbox: Outbox) -> None:
        command = CONSENT_DECISION.validate_json(record.value or b"")
        await submit(outbox, ledger_command_for(command))

    def feed_of(
        org: str, model: type[FeedMessage], command_for: Callable[[FeedMessage], LedgerCommand]
    ) -> Handler:
        """An organisation's own feed topic (risk scores, safeguard results): the broker
        lets only that organisation's tool write it, so the topic vouches for the org."""

        async def record(record: Record, outbox: Outbox) -> None:
            message = model.model_validate_json(record.value or b"")
            if message.org_id != org:
                raise ForeignAssessment(f"{model.__name__} of {message.org_id} on {org}'s topic")
            await submit(outbox, command_for(message))

        return record

    handlers: dict[str, Handler] = {
        TRANSFER_REQUESTS.name: intake_request,
        CONSENT_DECISIONS.name: intake_consent,
    }
    for org in risk_orgs(submit.network):
        handlers[RISK_SCORES.for_org(org).name] = feed_of(
            org, RiskAssessment, ledger_command_for_assessment
        )
        handlers[SAFEGUARDS.for_org(org).name] = feed_of(
            org, SafeguardResult, ledger_command_for_safeguards
        )
    return handlers


class Reactions:
    """What follows a committed transaction, and the consent deadlines it sets."""

    def __init__(
        self, records: RecordsSystem, deadlines: ConsentDeadlines, submit: Submitter
    ) -> None:
        self._records = records
        self._deadlines = deadlines
        self._submit = submit

    def handlers(self) -> dict[str, Handler]:
        return {LEDGER_BLOCKS.name: self.react_to_commit}

    async def react_to_commit(self, record: Record, outbox: Outbox) -> None:
        report = LEDGER_REPORT.validate_json(record.value or b"")
        structlog.contextvars.bind_contextvars(correlation_id=report.correlation_id)
        if isinstance(report, CommandRejected):
            pending = self._deadlines.pending(report.correlation_id)
            if report.code == UNKNOWN_TRANSFER and pending is not None:
                # An expiry asked of a ledger that never had the transfer (its deadline
                # came from another ledger's run) would be asked again every tick.
                cleared = ConsentDeadline(report.correlation_id, pending.source_org, None)
                await self._track(cleared, record, outbox)
            return
        if report.result.transfer is None:
            return
        reaction = react(report.tx_id, report.result.transfer, self._records)
        for command in reaction.commands:
            await self._submit(outbox, command)
        await self._feed_back(report.tx_id, report.result.transfer, outbox)
        if reaction.deadline is not None:
            await self._track(reaction.deadline, record, outbox)

    async def _feed_back(self, tx_id: str, transfer: Transfer, outbox: Outbox) -> None:
        known = set(risk_orgs(self._submit.network))
        for feedback in feedback_for(tx_id, transfer):
            # An organisation without assessment topics has no tools to tell.
            if feedback.org_id in known:
                topic = FEEDBACK.for_org(feedback.org_id).name
                await outbox.send(topic, feedback, feedback.org_id.encode())

    async def _track(self, deadline: ConsentDeadline, record: Record, outbox: Outbox) -> None:
        change = self._deadlines.track(deadline)
        if change is not None:
            # The block's partition: one transfer's deadlines stay on one partition.
            await outbox.send_raw(
                CONSENT_DEADLINES.name, change.value, change.key, record.partition
            )


async def expire_overdue(
    deadlines: ConsentDeadlines,
    producer: AIOKafkaProducer,
    submit: Submitter,
    now: datetime | None = None,
) -> int:
    """Asks the ledger to expire every overdue consent and to flag every overdue review;
    returns how many it asked for.

    Repeated every tick until the commit clears the deadline: the derived event id makes
    the repeats replays.
    """
    overdue = deadlines.overdue(now or datetime.now(UTC))
    if not overdue:
        return 0
    outbox = Outbox(producer)
    requested = 0
    for transfer_id, pending in overdue:
        try:
            command = (
                flag_review_command(transfer_id, pending.source_org, pending.at)
                if pending.kind == "review"
                else expire_command(transfer_id, pending.source_org, pending.at)
            )
        except ValidationError:
            # Only a damaged changelog record can name no valid transfer: never retry it.
            log.warning("unusable consent deadline dropped")
            deadlines.discard(transfer_id)
            continue
        try:
            await submit(outbox, command)
        except Unroutable:
            log.warning("consent deadline of an organisation no member signs for dropped")
            deadlines.discard(transfer_id)
            continue
        requested += 1
    await outbox.delivered()
    structlog.contextvars.clear_contextvars()
    if requested:
        log.info("expiry requested", transfers=requested)
    return requested
