"""The exported JSON Schema and AsyncAPI files: up to date, self-consistent, and faithful."""

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer
from pydantic import BaseModel
from typer.testing import CliRunner

from curex.assessments import assessment, safeguards
from curex.schemas_cli import DEFAULT_EXPORT_DIR, export_drift, schemas_app
from schemas import (
    Action,
    Actor,
    ApplyActionTx,
    AuditRiskTx,
    CancelReason,
    CancelTransfer,
    CloseTransfer,
    CommandRejected,
    CreateTransfer,
    CreateTransferTx,
    DeadLetter,
    FlagReviewOverdueTx,
    GrantConsent,
    LedgerCommand,
    MarkReceived,
    MarkTransferred,
    OrganisationPolicy,
    PurposeOfUse,
    RecordReviewVerdict,
    RecordReviewVerdictTx,
    RecordRiskScoreTx,
    RecordSafeguardsTx,
    RefuseConsent,
    ReviewReason,
    ReviewVerdict,
    RevokeConsent,
    RiskScoresUsed,
    Role,
    SafeguardAudit,
    SafeguardDeclaration,
    SafeguardStatus,
    SetPolicyTx,
    TransactionCommitted,
    Transfer,
    TransferFeedback,
    TransferState,
    TransferTouch,
    Transition,
    TxResult,
    utc_now,
)
from schemas.export import ASYNCAPI_FILE, export_files, json_schemas
from schemas.topics import ALL_TOPICS

TRANSFER_ID = "tr-0001-demo"
PSEUDONYM = "0123456789abcdef" * 4
DOCTOR = Actor(user_id="doctor.ki", org="SE-KI", role=Role.HEALTH_PROFESSIONAL)
PATIENT = Actor(user_id=PSEUDONYM, org="ES-SERMAS", role=Role.PATIENT)
SYSTEM = Actor(user_id="processors", org="ES-SERMAS", role=Role.SYSTEM)
OFFICER = Actor(user_id="dpo.sermas", org="ES-SERMAS", role=Role.DPO)
POLICY = OrganisationPolicy(
    org_id="SE-KI", min_cybersecurity=60, min_privacy=60, consent_time_limit_s=3600
)
ASSESSMENT = assessment("SE-KI", 80, 75, findings=("PATCH-LATENCY-30D",))
SAFEGUARDS = safeguards(
    "SE-KI",
    {"ISO27001-A.8.24": SafeguardStatus.IMPLEMENTED, "NIS2-21.2.J": SafeguardStatus.PLANNED},
)


def _transfer() -> Transfer:
    now = utc_now()
    transition = Transition(
        transfer_id=TRANSFER_ID,
        from_state=TransferState.INITIALISED,
        to_state=TransferState.RISK_ACCEPTED,
        action=Action.ACCEPT_RISK,
        actor=SYSTEM,
        at=now,
        risk_scores=(
            RiskScoresUsed(
                org_id="SE-KI", cybersecurity_score=80, privacy_score=75, assessed_at=now
            ),
        ),
    )
    return Transfer(
        transfer_id=TRANSFER_ID,
        requesting_org="SE-KI",
        source_org="ES-SERMAS",
        patient_pseudonym=PSEUDONYM,
        emergency=False,
        purpose=PurposeOfUse.TREAT,
        state=TransferState.RISK_ACCEPTED,
        created_at=now,
        updated_at=now,
        last_transition=transition,
    )


def _ledger_command(tx: Any) -> LedgerCommand:
    return LedgerCommand(correlation_id=TRANSFER_ID, actor=SYSTEM, tx=tx)


def _command(model: type[BaseModel], actor: Actor = DOCTOR, **fields: Any) -> BaseModel:
    return model(correlation_id=TRANSFER_ID, transfer_id=TRANSFER_ID, actor=actor, **fields)


# (exported file, a valid message it must accept), one per message kind.
SAMPLES: list[tuple[str, BaseModel]] = [
    (
        "transfer-request.json",
        _command(
            CreateTransfer,
            source_org="ES-SERMAS",
            patient_pseudonym=PSEUDONYM,
            emergency=True,
            purpose=PurposeOfUse.ETREAT,
        ),
    ),
    ("transfer-request.json", _command(CancelTransfer, reason=CancelReason.PATIENT_DISCHARGED)),
    ("transfer-request.json", _command(MarkTransferred)),
    ("transfer-request.json", _command(MarkReceived)),
    ("transfer-request.json", _command(CloseTransfer)),
    (
        "transfer-request.json",
        _command(
            RecordReviewVerdict,
            actor=OFFICER,
            verdict=ReviewVerdict.JUSTIFIED,
            reason=ReviewReason.PATIENT_UNABLE_TO_CONSENT,
        ),
    ),
    ("consent-decision.json", _command(GrantConsent, actor=PATIENT)),
    ("consent-decision.json", _command(RefuseConsent, actor=PATIENT)),
    ("consent-decision.json", _command(RevokeConsent, actor=PATIENT)),
    ("risk-assessment.json", ASSESSMENT),
    ("safeguard-result.json", SAFEGUARDS),
    (
        "transfer-feedback.json",
        TransferFeedback(
            event_id=uuid.uuid4(),
            org_id="SE-KI",
            role="requesting",
            outcome=TransferState.RISK_REJECTED,
            action=Action.REJECT_RISK,
            emergency=False,
            hour=utc_now().replace(minute=0, second=0, microsecond=0),
        ),
    ),
    (
        "safeguard-audit.json",
        SafeguardAudit(
            org_id="SE-KI",
            at=utc_now(),
            declaration=SafeguardDeclaration.of(SAFEGUARDS, "tx-9", utc_now()),
            transfers=(
                TransferTouch(
                    transfer_id=TRANSFER_ID,
                    role="source",
                    state=TransferState.CLOSED,
                    created_at=utc_now(),
                    updated_at=utc_now(),
                ),
            ),
        ),
    ),
    ("ledger-command.json", _ledger_command(RecordSafeguardsTx(result=SAFEGUARDS))),
    ("organisation-policy.json", POLICY),
    ("ledger-command.json", _ledger_command(SetPolicyTx(policy=POLICY))),
    ("ledger-command.json", _ledger_command(RecordRiskScoreTx(assessment=ASSESSMENT))),
    (
        "ledger-command.json",
        _ledger_command(
            CreateTransferTx(
                transfer_id=TRANSFER_ID,
                source_org="ES-SERMAS",
                patient_pseudonym=PSEUDONYM,
                emergency=False,
                purpose=PurposeOfUse.TREAT,
            )
        ),
    ),
    ("ledger-command.json", _ledger_command(AuditRiskTx(transfer_id=TRANSFER_ID))),
    ("ledger-command.json", _ledger_command(FlagReviewOverdueTx(transfer_id=TRANSFER_ID))),
    (
        "ledger-command.json",
        _ledger_command(
            RecordReviewVerdictTx(
                transfer_id=TRANSFER_ID,
                verdict=ReviewVerdict.UNJUSTIFIED,
                reason=ReviewReason.CONSENT_WAS_OBTAINABLE,
            )
        ),
    ),
    (
        "ledger-command.json",
        _ledger_command(ApplyActionTx(transfer_id=TRANSFER_ID, action=Action.DECLARE_AVAILABLE)),
    ),
    (
        "ledger-report.json",
        TransactionCommitted(
            correlation_id=TRANSFER_ID,
            command_event_id="3f1c",
            tx_id="tx-1",
            block_number=7,
            result=TxResult(tx_id="tx-1", op="audit_risk", transfer=_transfer()),
        ),
    ),
    (
        "ledger-report.json",
        CommandRejected(
            correlation_id=TRANSFER_ID,
            command_event_id="3f1c",
            code="transition_not_allowed",
            reason="CLOSED is final",
            current_state=TransferState.CLOSED,
        ),
    ),
    (
        "dead-letter.json",
        DeadLetter(
            correlation_id=TRANSFER_ID,
            source_topic="curex.transfer.requests",
            source_partition=2,
            source_offset=41,
            original_sha256=hashlib.sha256(b"not json").hexdigest(),
            original_size=8,
            error="not JSON",
        ),
    ),
]


def _checked_in(name: str) -> Any:
    return json.loads((DEFAULT_EXPORT_DIR / name).read_text(encoding="utf-8"))


def _asyncapi() -> Any:
    """The document as generated now, as a JSON reader sees it."""
    return json.loads(export_files()[ASYNCAPI_FILE])


def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = _checked_in(name)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def _resolve(document: Any, ref: str) -> Any:
    """Follow a local JSON Pointer reference (RFC 6901); KeyError when it does not resolve."""
    assert ref.startswith("#/"), f"not a local reference: {ref}"
    node = document
    for token in ref.removeprefix("#/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def test_checked_in_export_matches_the_models() -> None:
    drift = export_drift(DEFAULT_EXPORT_DIR, export_files())
    assert drift == [], (
        "schemas/export/ is out of date with the models: run `curex schemas export` "
        f"and commit the result. {drift}"
    )


def test_export_is_deterministic() -> None:
    assert export_files() == export_files()


def test_every_ref_in_the_asyncapi_document_resolves() -> None:
    document = _asyncapi()
    refs = _refs(document)
    assert refs
    for ref in refs:
        assert _resolve(document, ref) is not None, ref
    assert "$defs" not in json.dumps(document), "a JSON Schema $defs was not moved to components"


@pytest.mark.parametrize("name", sorted(json_schemas()))
def test_every_ref_in_each_json_schema_resolves_within_its_file(name: str) -> None:
    schema = _checked_in(name)
    for ref in _refs(schema):
        assert ref.startswith("#/$defs/"), ref
        _resolve(schema, ref)


def test_every_topic_is_a_channel_at_its_address_with_its_layout() -> None:
    channels = _asyncapi()["channels"]
    assert {channel["address"] for channel in channels.values()} == {t.address for t in ALL_TOPICS}
    for topic in ALL_TOPICS:
        channel = channels[topic.name]
        kafka = channel["bindings"]["kafka"]
        assert kafka["partitions"] == topic.partitions
        policy = kafka["topicConfiguration"]["cleanup.policy"]
        assert policy == (["compact"] if topic.compacted else ["delete"])
        assert channel["messages"], f"{topic.name} carries no message"
        for message in channel["messages"].values():
            assert message["bindings"]["kafka"]["key"] == {
                "type": "string",
                "description": topic.key,
            }


def test_every_topic_has_a_sending_operation() -> None:
    operations = _asyncapi()["operations"].values()
    sent = {op["channel"]["$ref"] for op in operations if op["action"] == "send"}
    assert sent == {f"#/channels/{topic.name}" for topic in ALL_TOPICS}


@pytest.mark.parametrize(
    ("name", "message"), SAMPLES, ids=[f"{name}:{type(msg).__name__}" for name, msg in SAMPLES]
)
def test_a_valid_message_validates_against_its_exported_json_schema(
    name: str, message: BaseModel
) -> None:
    _validator(name).validate(message.model_dump(mode="json"))


def test_every_message_kind_has_a_sample() -> None:
    assert {name for name, _ in SAMPLES} == set(json_schemas())


def test_exported_schema_rejects_a_raw_patient_identifier() -> None:
    create = SAMPLES[0][1].model_dump(mode="json")
    create["patient_pseudonym"] = "ES-1000001"
    assert not _validator("transfer-request.json").is_valid(create)


def test_exported_schema_rejects_a_score_without_validity_or_evidence() -> None:
    first_form = ASSESSMENT.model_dump(
        mode="json", exclude={"assessment_id", "tool_version", "report_digest", "valid_until"}
    )
    assert not _validator("risk-assessment.json").is_valid({**first_form, "schema_version": 1})


def test_exported_schemas_take_codes_not_free_text() -> None:
    score = ASSESSMENT.model_dump(mode="json")
    score["findings"] = ["patient J. Doe's record was exposed"]
    assert not _validator("risk-assessment.json").is_valid(score)
    result = SAFEGUARDS.model_dump(mode="json")
    result["safeguards"][0]["code"] = "we encrypt most laptops"
    assert not _validator("safeguard-result.json").is_valid(result)


def test_exported_schema_rejects_an_unknown_field() -> None:
    grant = _command(GrantConsent, actor=PATIENT).model_dump(mode="json")
    grant["note"] = "extra"
    assert not _validator("consent-decision.json").is_valid(grant)


def test_export_check_lists_missing_stale_and_extra_files(tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(schemas_app, name="schemas")
    runner = CliRunner()

    written = runner.invoke(app, ["schemas", "export", "--out", str(tmp_path)])
    assert written.exit_code == 0, written.output
    fresh = runner.invoke(app, ["schemas", "export", "--out", str(tmp_path), "--check"])
    assert fresh.exit_code == 0, fresh.output

    (tmp_path / "dead-letter.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "risk-assessment.json").unlink()
    (tmp_path / "leftover.json").write_text("{}\n", encoding="utf-8")
    checked = runner.invoke(app, ["schemas", "export", "--out", str(tmp_path), "--check"])

    assert checked.exit_code == 1
    assert "stale: dead-letter.json" in checked.stderr
    assert "missing: risk-assessment.json" in checked.stderr
    assert "extra: leftover.json" in checked.stderr
    assert "curex schemas export" in checked.stderr
