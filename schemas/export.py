"""JSON Schema files and an AsyncAPI 3.0 document generated from the message models.

Pure: it returns data and text; ``curex schemas export`` writes them to
``schemas/export/`` so services in other languages and reviewers read the contract
without running Python.
"""

import json
from collections.abc import Mapping
from typing import Any, get_args

from pydantic import TypeAdapter

from schemas.commands import (
    CONSENT_DECISION,
    TRANSFER_REQUEST,
    ConsentDecision,
    TransferRequest,
)
from schemas.deadletter import DeadLetter
from schemas.envelope import Envelope, Message
from schemas.feedback import TransferFeedback
from schemas.ledger import LEDGER_COMMAND, LEDGER_REPORT, LedgerCommand, LedgerReport
from schemas.risk import OrganisationPolicy, RiskAssessment
from schemas.safeguards import SafeguardAudit, SafeguardResult
from schemas.topics import (
    ALL_TOPICS,
    CONSENT_DECISIONS,
    DEADLETTER,
    FEEDBACK,
    LEDGER_BLOCKS,
    LEDGER_COMMANDS,
    NOTIFICATIONS,
    RISK_SCORES,
    SAFEGUARDS,
    TRANSFER_REQUESTS,
    TopicSpec,
)

ASYNCAPI_FILE = "asyncapi.json"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
KAFKA_BINDING_VERSION = "0.5.0"
# The version of this contract document. Messages carry their own ``schema_version``.
CONTRACT_VERSION = "1.0.0"

_COMPONENT_REF = "#/components/schemas/{model}"
_NOTIFICATION = "Notification"
_CORRELATION_ID = "transferId"


def _members(union: object) -> tuple[type[Message], ...]:
    """The models of an ``Annotated[A | B, Field(discriminator=...)]`` union."""
    union_type = get_args(union)[0]
    return tuple(get_args(union_type))


# Every exported JSON Schema file: a message, a union of messages, or a ledger record.
_JSON_SCHEMA_FILES: tuple[tuple[str, str, TypeAdapter[Any]], ...] = (
    ("transfer-request.json", "TransferRequest", TRANSFER_REQUEST),
    ("consent-decision.json", "ConsentDecision", CONSENT_DECISION),
    ("risk-assessment.json", "RiskAssessment", TypeAdapter(RiskAssessment)),
    ("ledger-command.json", "LedgerCommand", LEDGER_COMMAND),
    ("ledger-report.json", "LedgerReport", LEDGER_REPORT),
    ("dead-letter.json", "DeadLetter", TypeAdapter(DeadLetter)),
    ("organisation-policy.json", "OrganisationPolicy", TypeAdapter(OrganisationPolicy)),
    ("safeguard-result.json", "SafeguardResult", TypeAdapter(SafeguardResult)),
    ("transfer-feedback.json", "TransferFeedback", TypeAdapter(TransferFeedback)),
    # What the Blockchain API answers an auditor (GET /v1/ledger/orgs/{org}/safeguards).
    ("safeguard-audit.json", "SafeguardAudit", TypeAdapter(SafeguardAudit)),
)

# What each topic carries. An empty tuple: no model yet (curex.notifications).
_PAYLOADS: dict[str, tuple[type[Message], ...]] = {
    TRANSFER_REQUESTS.name: _members(TransferRequest),
    CONSENT_DECISIONS.name: _members(ConsentDecision),
    RISK_SCORES.name: (RiskAssessment,),
    SAFEGUARDS.name: (SafeguardResult,),
    FEEDBACK.name: (TransferFeedback,),
    LEDGER_COMMANDS.name: (LedgerCommand,),
    LEDGER_BLOCKS.name: _members(LedgerReport),
    NOTIFICATIONS.name: (),
    DEADLETTER.name: (DeadLetter,),
}

# The services named in ARCHITECTURE.md, plus the external risk tools that feed scores.
_SERVICES: dict[str, str] = {
    "producers": "Applications Server (FastAPI): REST API for HPA/PA, publishes their commands",
    "processors": (
        "aiokafka consumer loops that commit an input only after its outputs are "
        "acknowledged: intake validation, risk-audit trigger, consent branching and "
        "timeouts, availability query, read-model projector, dead-lettering"
    ),
    "ledger_gateway": (
        "Blockchain API, one per organisation: submits transactions, streams committed blocks"
    ),
    "notifier": "pushes ledger-confirmed changes to HPA/PA clients and keeps their inboxes",
    "risk_tools": (
        "CUREX risk assessment tools (CAT, PAT): publish scores, read their organisation's "
        "feedback to recalculate; the demo stands in for them"
    ),
    "safeguards_tool": (
        "CUREX optimal-safeguards tool (OST): publishes which advised safeguards its "
        "organisation implemented, planned or declined; the demo stands in for it"
    ),
}

# Who sends to and who receives from each topic.
_ROUTES: tuple[tuple[str, str, TopicSpec], ...] = (
    ("producers", "send", TRANSFER_REQUESTS),
    ("processors", "receive", TRANSFER_REQUESTS),
    ("producers", "send", CONSENT_DECISIONS),
    ("processors", "receive", CONSENT_DECISIONS),
    ("risk_tools", "send", RISK_SCORES),
    ("processors", "receive", RISK_SCORES),
    ("safeguards_tool", "send", SAFEGUARDS),
    ("processors", "receive", SAFEGUARDS),
    ("processors", "send", FEEDBACK),
    ("risk_tools", "receive", FEEDBACK),
    ("processors", "send", LEDGER_COMMANDS),
    ("ledger_gateway", "receive", LEDGER_COMMANDS),
    ("ledger_gateway", "send", LEDGER_BLOCKS),
    ("processors", "receive", LEDGER_BLOCKS),
    ("notifier", "receive", LEDGER_BLOCKS),
    ("notifier", "send", NOTIFICATIONS),
    ("notifier", "receive", NOTIFICATIONS),
    ("processors", "send", DEADLETTER),
)


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema (draft 2020-12) of each exported message or union."""
    schemas: dict[str, dict[str, Any]] = {}
    for file_name, title, adapter in _JSON_SCHEMA_FILES:
        schema = adapter.json_schema(mode="validation")
        schemas[file_name] = {"$schema": JSON_SCHEMA_DIALECT, "title": title, **schema}
    return schemas


def asyncapi_document() -> dict[str, Any]:
    """An AsyncAPI 3.0.0 document: every topic a channel, every service's operations."""
    payload_refs, component_schemas = _component_schemas()
    channels = {
        topic.name: _channel(topic, _PAYLOADS[topic.name], payload_refs) for topic in ALL_TOPICS
    }
    operations: dict[str, Any] = {}
    for service, action, topic in _ROUTES:
        operations[f"{service}.{action}.{topic.name}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{_escape(topic.name)}"},
            "messages": [
                {"$ref": f"#/channels/{_escape(topic.name)}/messages/{_escape(name)}"}
                for name in channels[topic.name]["messages"]
            ],
            "summary": f"{service} {action}s on {topic.name}",
            "tags": [{"name": service}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "CUREX cross-border health data exchange",
            "version": CONTRACT_VERSION,
            "description": (
                "The Kafka topics of the CUREX transfer workflow, the messages each carries "
                "and which service sends or receives them. Generated from `schemas/` by "
                "`curex schemas export`; do not edit by hand."
            ),
            "tags": [{"name": name, "description": text} for name, text in _SERVICES.items()],
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "single-node KRaft broker started by `curex up`",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": component_schemas,
            "correlationIds": {
                _CORRELATION_ID: {
                    "description": "the transfer id every envelope carries",
                    "location": "$message.payload#/correlation_id",
                }
            },
        },
    }


def export_files() -> dict[str, str]:
    """File name -> text of every file ``schemas/export/`` must hold."""
    files = {name: dump_json(schema) for name, schema in json_schemas().items()}
    files[ASYNCAPI_FILE] = dump_json(asyncapi_document())
    return files


def dump_json(document: Mapping[str, Any]) -> str:
    """Deterministic text of a document: sorted keys, two-space indent, final newline."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _component_schemas() -> tuple[dict[type[Message], str], dict[str, Any]]:
    """Each payload model's component name, and every schema under components/schemas.

    One generator for all models, so shared definitions (``Actor``, ``TransferState``)
    appear once and colliding names are made unique.
    """
    models = sorted(
        {model for carried in _PAYLOADS.values() for model in carried}, key=lambda m: m.__name__
    )
    keyed, definitions = TypeAdapter.json_schemas(
        [(model, "validation", TypeAdapter(model)) for model in models],
        ref_template=_COMPONENT_REF,
    )
    prefix = _COMPONENT_REF.format(model="")
    payload_refs = {
        model: keyed[(model, "validation")]["$ref"].removeprefix(prefix) for model in models
    }
    component_schemas: dict[str, Any] = {
        name: _to_asyncapi_schema(schema) for name, schema in definitions.get("$defs", {}).items()
    }
    component_schemas[_NOTIFICATION] = {
        "type": "object",
        "description": (
            "What the notifier delivers to one recipient. Defined by the notifier (next "
            "issue); until then any JSON object."
        ),
    }
    return payload_refs, component_schemas


def _channel(
    topic: TopicSpec, carried: tuple[type[Message], ...], payload_refs: Mapping[type[Message], str]
) -> dict[str, Any]:
    messages: dict[str, Any] = {}
    for model in carried:
        name = payload_refs[model]
        message: dict[str, Any] = {
            "name": name,
            "contentType": "application/json",
            "payload": {"$ref": _COMPONENT_REF.format(model=_escape(name))},
            "bindings": _key_binding(topic),
        }
        if issubclass(model, Envelope):
            message["correlationId"] = {"$ref": f"#/components/correlationIds/{_CORRELATION_ID}"}
        messages[name] = message
    if not carried:
        messages[_NOTIFICATION] = {
            "name": _NOTIFICATION,
            "contentType": "application/json",
            "payload": {"$ref": _COMPONENT_REF.format(model=_NOTIFICATION)},
            "bindings": _key_binding(topic),
        }
    channel: dict[str, Any] = {
        "address": topic.address,
        "description": topic.carries,
        "messages": messages,
        "bindings": {
            "kafka": {
                "topic": topic.address,
                "partitions": topic.partitions,
                "topicConfiguration": {
                    "cleanup.policy": ["compact"] if topic.compacted else ["delete"]
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }
    if topic.per_org:
        channel["parameters"] = {
            "org": {"description": "the organisation id in lower case, e.g. es-sermas"}
        }
    return channel


def _key_binding(topic: TopicSpec) -> dict[str, Any]:
    return {
        "kafka": {
            "key": {"type": "string", "description": topic.key},
            "bindingVersion": KAFKA_BINDING_VERSION,
        }
    }


def _to_asyncapi_schema(node: Any) -> Any:
    """Rewrite pydantic's OpenAPI-style discriminator object to AsyncAPI's property name.

    AsyncAPI's Schema Object takes ``discriminator`` as a string; the ``oneOf`` beside it
    still says which schemas are allowed.
    """
    if isinstance(node, list):
        return [_to_asyncapi_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    rewritten: dict[str, Any] = {}
    for key, value in node.items():
        if key == "discriminator" and isinstance(value, dict) and "propertyName" in value:
            rewritten[key] = value["propertyName"]
        else:
            rewritten[key] = _to_asyncapi_schema(value)
    return rewritten


def _escape(name: str) -> str:
    """A JSON Pointer reference token (RFC 6901)."""
    return name.replace("~", "~0").replace("/", "~1")
