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
    SafeguardResult,
    SetPolicyTx,
    TransferCommand,
)
from schemas.commands import GrantConsent, RefuseConsent, RevokeConsent
from schemas.network import DEMO_NETWORK, Network
from schemas.topics import (
    CONSENT_DECISIONS,
    LEDGER_COMMANDS,
    RISK_SCORES,
    SAFEGUARDS,
    TRANSFER_REQUESTS,
)
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
    """Requests and consent decisions as the Applications Server sends them; risk scores and
    safeguard results as each organisation's feeds, and policies as its operators, when
    given their producers (each runs as its own principal on the bus)."""

    def __init__(
        self,
        producer: AIOKafkaProducer,
        *,
        feeds: Mapping[str, AIOKafkaProducer] | None = None,
        operators: Mapping[str, AIOKafkaProducer] | None = None,
        safeguard_feeds: Mapping[str, AIOKafkaProducer] | None = None,
        network: Network = DEMO_NETWORK,
    ) -> None:
        self._producer = producer
        self._feeds = dict(feeds or {})
        self._safeguard_feeds = dict(safeguard_feeds or {})
        # By member: an organisation it hosts has its policy sent by the host's operators.
        self._operators = dict(operators or {})
        self._network = network

    async def publish(self, command: Command | Mapping[str, Any]) -> Awaitable[object]:
        """Queue a command; await the returned future for the broker's acknowledgement."""
        valid = validate_command(command)
        topic = CONSENT_DECISIONS if isinstance(valid, _CONSENT_TYPES) else TRANSFER_REQUESTS
        return await send(self._producer, topic.name, valid, valid.transfer_id.encode())

    async def publish_and_wait(self, command: Command | Mapping[str, Any]) -> None:
        await (await self.publish(command))

    async def publish_risk_assessment(self, assessment: RiskAssessment) -> None:
        org = assessment.org_id
        topic = RISK_SCORES.for_org(org).name
        await (await send(self._feeds[org], topic, assessment, org.encode()))

    async def publish_safeguards(self, result: SafeguardResult) -> None:
        org = result.org_id
        topic = SAFEGUARDS.for_org(org).name
        await (await send(self._safeguard_feeds[org], topic, result, org.encode()))

    async def publish_policy(self, policy: OrganisationPolicy, actor: Actor) -> None:
        """Register an organisation's policy: an operator action, straight to its gateway."""
        org = policy.org_id
        host = self._network.host_of(org)
        if host is None:
            raise ValueError(f"no member of the network signs for {org}")
        command = LedgerCommand(correlation_id=org, actor=actor, tx=SetPolicyTx(policy=policy))
        topic = LEDGER_COMMANDS.for_org(host).name
        await (await send(self._operators[host], topic, command, org.encode()))
