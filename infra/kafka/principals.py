"""Who may do what on the bus: one principal per service, per organisation's ledger gateway,
assessment feed and operator, and a read-only observer. Each may write only the topics it
produces and read only the topics (and consumer groups) it consumes; everything not
listed is denied (the broker runs with ``allow.everyone.if.no.acl.found=false``)."""

from dataclasses import dataclass
from enum import Enum

from processors.deadlines import CONSENT_DEADLINES
from schemas.network import Network
from schemas.topics import (
    CONSENT_DECISIONS,
    DEADLETTER,
    FEEDBACK,
    LEDGER_BLOCKS,
    LEDGER_COMMANDS,
    NOTIFICATIONS,
    RISK_SCORES,
    SAFEGUARDS,
    TRANSFER_REQUESTS,
    risk_orgs,
)

CONSENT_DEADLINES_TOPIC = CONSENT_DEADLINES.name
APPLICATIONS_SERVER = "applications-server"
PROCESSORS = "processors"
READ_MODEL = "read-model"
NOTIFIER = "notifier"
OBSERVER = "observer"
BENCH = "bench"
BENCH_TOPICS = "curex.bench."


class Resource(Enum):
    TOPIC = "topic"
    GROUP = "group"


class Operation(Enum):
    READ = "read"
    WRITE = "write"
    CREATE = "create"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Grant:
    principal: str
    resource: Resource
    name: str
    operation: Operation
    # A prefix names every resource starting with it.
    prefixed: bool = False


def gateway_principal(org: str) -> str:
    return f"ledger-gateway-{org.lower()}"


def feed_principal(org: str) -> str:
    return f"risk-feed-{org.lower()}"


def safeguards_feed_principal(org: str) -> str:
    return f"safeguards-feed-{org.lower()}"


def feedback_group(org: str) -> str:
    """The consumer group an organisation's assessment tools read their feedback in."""
    return f"curex-feedback-{org.lower()}"


def operator_principal(org: str) -> str:
    return f"operator-{org.lower()}"


def _reads(principal: str, *topics: str) -> list[Grant]:
    return [Grant(principal, Resource.TOPIC, t, Operation.READ) for t in topics]


def _writes(principal: str, *topics: str) -> list[Grant]:
    return [Grant(principal, Resource.TOPIC, t, Operation.WRITE) for t in topics]


def _group(principal: str, name: str, prefixed: bool = True) -> Grant:
    return Grant(principal, Resource.GROUP, name, Operation.READ, prefixed)


def grants(network: Network) -> list[Grant]:
    """Every ACL of the installation."""
    commands = f"{LEDGER_COMMANDS.name}."
    scores = f"{RISK_SCORES.name}."
    safeguards = f"{SAFEGUARDS.name}."
    feedback = f"{FEEDBACK.name}."
    table: list[Grant] = [
        *_writes(APPLICATIONS_SERVER, TRANSFER_REQUESTS.name, CONSENT_DECISIONS.name),
        # The Applications Server's live notifications follow the blocks (no group).
        *_reads(APPLICATIONS_SERVER, LEDGER_BLOCKS.name),
        *_reads(
            PROCESSORS,
            TRANSFER_REQUESTS.name,
            CONSENT_DECISIONS.name,
            LEDGER_BLOCKS.name,
            CONSENT_DEADLINES_TOPIC,
        ),
        Grant(PROCESSORS, Resource.TOPIC, scores, Operation.READ, prefixed=True),
        Grant(PROCESSORS, Resource.TOPIC, safeguards, Operation.READ, prefixed=True),
        Grant(PROCESSORS, Resource.TOPIC, feedback, Operation.WRITE, prefixed=True),
        Grant(PROCESSORS, Resource.TOPIC, commands, Operation.WRITE, prefixed=True),
        *_writes(PROCESSORS, DEADLETTER.name, CONSENT_DEADLINES_TOPIC),
        Grant(PROCESSORS, Resource.TOPIC, CONSENT_DEADLINES_TOPIC, Operation.CREATE),
        _group(PROCESSORS, "curex-processors"),
        *_reads(READ_MODEL, LEDGER_BLOCKS.name),
        *_writes(READ_MODEL, DEADLETTER.name),
        _group(READ_MODEL, "curex-read-model"),
        *_reads(NOTIFIER, LEDGER_BLOCKS.name, NOTIFICATIONS.name),
        *_writes(NOTIFIER, NOTIFICATIONS.name, DEADLETTER.name),
        _group(NOTIFIER, "curex-notifier"),
        # Operations' tools and the tests watch every topic and write none.
        Grant(OBSERVER, Resource.TOPIC, "curex.", Operation.READ, prefixed=True),
        _group(OBSERVER, "curex-observer"),
        # The benches' raw baseline: scratch topics of its own, created and deleted per run.
        *[
            Grant(BENCH, Resource.TOPIC, BENCH_TOPICS, operation, prefixed=True)
            for operation in Operation
        ],
        _group(BENCH, "curex-bench"),
    ]
    for org in network.members:
        gateway = gateway_principal(org)
        table += [
            *_reads(gateway, LEDGER_COMMANDS.for_org(org).name),
            *_writes(gateway, LEDGER_BLOCKS.name, DEADLETTER.name),
            _group(gateway, f"curex-ledger-gateway-{org.lower()}", prefixed=False),
            # An organisation's operators change its policy: commands its gateway signs.
            *_writes(operator_principal(org), LEDGER_COMMANDS.for_org(org).name),
        ]
    for org in risk_orgs(network):
        table += [
            *_writes(feed_principal(org), RISK_SCORES.for_org(org).name),
            # The assessment tools (CAT, PAT) read how their organisation's transfers end.
            *_reads(feed_principal(org), FEEDBACK.for_org(org).name),
            _group(feed_principal(org), feedback_group(org), prefixed=False),
            *_writes(safeguards_feed_principal(org), SAFEGUARDS.for_org(org).name),
        ]
    return sorted(table, key=lambda g: (g.principal, g.resource.value, g.name, g.operation.value))


def principals(network: Network) -> list[str]:
    return sorted({grant.principal for grant in grants(network)})
