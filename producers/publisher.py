"""The publishing API frontends and the demo use to put commands on Kafka.

Everything is validated against ``schemas`` before it is sent: a malformed command is
refused here with a ``ValidationError`` and never reaches a topic.
"""

from collections.abc import Awaitable, Mapping
from typing import Any

from aiokafka import AIOKafkaProducer

from schemas import (
    CONSENT_DECISION,
    TRANSFER_REQUEST,
    Actor,
    LedgerCommand,
    OrganisationPolicy,
    RiskAssessment,
    SetPolicyTx,
    TransferCommand,
)
from schemas.commands import GrantConsent, RefuseConsent, RevokeConsent
from schemas.topics import CONSENT_DECISIONS, LEDGER_COMMANDS, RISK_SCORES, TRANSFER_REQUESTS
from service_runtime.kafka_producer import send

Command = TransferCommand
_CONSENT_TYPES = (GrantConsent, RefuseConsent, RevokeConsent)
_CONSENT_TYPE_NAMES = {"grant_consent", "refuse_consent", "revoke_consent"}


def validate_command(command: Command | Mapping[str, Any]) -> Command:
    if not isinstance(command, Mapping):
        return command
    if command.get("type") in _CONSENT_TYPE_NAMES:
        return CONSENT_DECISION.validate_python(command)
    return TRANSFER_REQUEST.validate_python(command)


class CommandPublisher:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    async def publish(self, command: Command | Mapping[str, Any]) -> Awaitable[object]:
        """Queue a command; await the returned future for the broker's acknowledgement."""
        valid = validate_command(command)
        topic = CONSENT_DECISIONS if isinstance(valid, _CONSENT_TYPES) else TRANSFER_REQUESTS
        return await send(self._producer, topic.name, valid, valid.transfer_id.encode())

    async def publish_and_wait(self, command: Command | Mapping[str, Any]) -> None:
        await (await self.publish(command))

    async def publish_risk_assessment(self, assessment: RiskAssessment) -> None:
        await (await send(self._producer, RISK_SCORES.name, assessment, assessment.org_id.encode()))

    async def publish_policy(self, policy: OrganisationPolicy, actor: Actor) -> None:
        """Register an organisation's policy: an operator action, straight to the ledger."""
        command = LedgerCommand(
            correlation_id=policy.org_id, actor=actor, tx=SetPolicyTx(policy=policy)
        )
        await (await send(self._producer, LEDGER_COMMANDS.name, command, policy.org_id.encode()))
