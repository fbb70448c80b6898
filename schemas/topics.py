"""Kafka topic names and how each is laid out."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    key: str
    carries: str
    compacted: bool = False


TRANSFER_REQUESTS = TopicSpec(
    "curex.transfer.requests",
    6,
    "transfer id",
    "commands from HPA: create, cancel, mark transferred / received, close",
)
CONSENT_DECISIONS = TopicSpec(
    "curex.consent.decisions", 6, "transfer id", "commands from PA: grant, refuse, revoke"
)
RISK_SCORES = TopicSpec(
    "curex.risk.scores", 3, "organisation id", "risk assessment results", compacted=True
)
LEDGER_COMMANDS = TopicSpec(
    "curex.ledger.commands", 6, "transfer id", "transactions for the ledger gateway to submit"
)
LEDGER_BLOCKS = TopicSpec(
    "curex.ledger.blocks",
    6,
    "transfer id",
    "committed ledger transactions with block number and tx id, and contract rejections",
)
NOTIFICATIONS = TopicSpec("curex.notifications", 6, "recipient id", "what the notifier delivers")
DEADLETTER = TopicSpec(
    "curex.deadletter",
    3,
    "original key",
    "rejected input: original bytes, source topic/partition/offset, error",
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    TRANSFER_REQUESTS,
    CONSENT_DECISIONS,
    RISK_SCORES,
    LEDGER_COMMANDS,
    LEDGER_BLOCKS,
    NOTIFICATIONS,
    DEADLETTER,
)
