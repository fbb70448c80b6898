"""Kafka topic names and how each is laid out.

Some families have a topic per organisation, so the broker's ACLs can tell organisations
apart: ``curex.ledger.commands.<org>`` (only that organisation's gateway reads it),
``curex.risk.scores.<org>`` and ``curex.safeguards.<org>`` (only that organisation's
assessment feeds write them) and ``curex.feedback.<org>`` (only its feeds read it).
"""

from dataclasses import dataclass, replace

from schemas.network import Network


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    key: str
    carries: str
    compacted: bool = False
    # A family: one topic per organisation, named ``<name>.<org in lower case>``.
    per_org: bool = False

    def for_org(self, org: str) -> "TopicSpec":
        if not self.per_org:
            raise ValueError(f"{self.name} is one topic, not one per organisation")
        return replace(self, name=f"{self.name}.{org.lower()}", per_org=False)

    @property
    def address(self) -> str:
        """The topic's name, or the family's pattern (as AsyncAPI writes a parameter)."""
        return f"{self.name}.{{org}}" if self.per_org else self.name


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
    "curex.risk.scores",
    1,
    "organisation id",
    "an organisation's risk assessment results, from its own assessment feed",
    compacted=True,
    per_org=True,
)
LEDGER_COMMANDS = TopicSpec(
    "curex.ledger.commands",
    6,
    "transfer id",
    "transactions for the organisation's ledger gateway to sign and submit",
    per_org=True,
)
LEDGER_BLOCKS = TopicSpec(
    "curex.ledger.blocks",
    6,
    "transfer id",
    "committed ledger transactions with block number and tx id, and contract rejections",
)
SAFEGUARDS = TopicSpec(
    "curex.safeguards",
    1,
    "organisation id",
    "an organisation's safeguard results, from its own optimal-safeguards tool",
    per_org=True,
)
FEEDBACK = TopicSpec(
    "curex.feedback",
    1,
    "organisation id",
    "finished transfers as counts and outcome codes, for the organisation's assessment tools",
    per_org=True,
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
    SAFEGUARDS,
    FEEDBACK,
    LEDGER_COMMANDS,
    LEDGER_BLOCKS,
    NOTIFICATIONS,
    DEADLETTER,
)


def risk_orgs(network: Network) -> tuple[str, ...]:
    """Every organisation with risk scores: the members and the organisations they host."""
    return (*network.members, *sorted(network.hosting))


def concrete_topics(network: Network) -> tuple[TopicSpec, ...]:
    """Every topic the broker holds for ``network``: the families expanded per organisation."""
    topics: list[TopicSpec] = []
    for topic in ALL_TOPICS:
        if topic is LEDGER_COMMANDS:
            topics += [topic.for_org(org) for org in network.members]
        elif topic in (RISK_SCORES, SAFEGUARDS, FEEDBACK):
            topics += [topic.for_org(org) for org in risk_orgs(network)]
        else:
            topics.append(topic)
    return tuple(topics)
