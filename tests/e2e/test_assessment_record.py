"""The assessment record on the ledger, through Kafka, the processors and both ledgers:
scores that expire and name themselves, safeguard declarations an auditor reads as they
stood at any time (Blockchain API and `curex audit`), and feedback to the assessment tools.
"""

import asyncio
import os
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from curex.assessments import assessment, safeguards
from curex.block_watch import BlockWatcher, reached
from curex.bus import observer_access
from infra.secrets import client_secret
from infra.settings import InfraSettings
from processors.feedback import feedback_for
from processors.intake import system_actor
from producers.publisher import CommandPublisher
from schemas import (
    CreateTransfer,
    LedgerReport,
    OrganisationPolicy,
    RiskAssessment,
    SafeguardAudit,
    SafeguardResult,
    SafeguardStatus,
    TransactionCommitted,
    TransferFeedback,
    TransferState,
    utc_now,
)
from schemas.topics import FEEDBACK
from tests.conftest import SessionWorld
from tests.e2e.rest import LEDGER_GATEWAYS, client_token

pytestmark = pytest.mark.integration
WITHIN = 60.0
EXPIRING = "TS-EXPIRING"  # hosted by ES-SERMAS
AUDITED = "TS-AUDITED"  # hosted by SE-KI
DONE, PLANNED, DECLINED = (
    SafeguardStatus.IMPLEMENTED,
    SafeguardStatus.PLANNED,
    SafeguardStatus.DECLINED,
)


async def recorded(
    publisher: CommandPublisher, watcher: BlockWatcher, message: RiskAssessment | SafeguardResult
) -> TransactionCommitted:
    """Publishes a tool's result as the tool would; returns its committed transaction."""
    event_id = str(message.event_id)

    def decided(reports: list[LedgerReport]) -> bool:
        return any(r.command_event_id == event_id for r in reports)

    if isinstance(message, RiskAssessment):
        await publisher.publish_risk_assessment(message)
    else:
        await publisher.publish_safeguards(message)
    await watcher.wait_until([message.org_id], decided, within=WITHIN)
    refused = [r for r in watcher.rejections(message.org_id) if r.command_event_id == event_id]
    assert not refused, refused[0].reason
    return next(r for r in watcher.committed(message.org_id) if r.command_event_id == event_id)


async def policy_for(publisher: CommandPublisher, org: str) -> None:
    await publisher.publish_policy(
        OrganisationPolicy(
            org_id=org, min_cybersecurity=60, min_privacy=60, consent_time_limit_s=3600
        ),
        system_actor(org),
    )


async def finish_audit(
    publisher: CommandPublisher, watcher: BlockWatcher, create: CreateTransfer
) -> TransactionCommitted:
    """Creates the transfer; returns the commit of its risk audit, whichever way it went."""
    await publisher.publish_and_wait(create)
    tid = create.transfer_id
    audited = (TransferState.RISK_ACCEPTED, TransferState.RISK_REJECTED)
    await watcher.wait_until(
        [tid], lambda reports: any(reached(s)(reports) for s in audited), within=WITHIN
    )
    return next(
        r
        for r in watcher.committed(tid)
        if r.result.transfer is not None and r.result.transfer.state in audited
    )


def transfer_from(world: SessionWorld, requesting: str, source: str) -> CreateTransfer:
    # The session's own create, asked by another organisation's professional.
    create = world.create(emergency=False, source=source)
    return create.model_copy(update={"actor": world.doctor(requesting)})


async def ledger_api(stack: InfraSettings, member: str) -> httpx.AsyncClient:
    client_id = f"ledger-{member.lower()}"
    token = await client_token(client_id, client_secret(stack, client_id))
    return httpx.AsyncClient(
        base_url=LEDGER_GATEWAYS[member],
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


async def test_an_expired_score_rejects_with_that_reason_a_valid_one_accepts_and_history_names_both(
    stack: InfraSettings, publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    await policy_for(publisher, EXPIRING)
    now = utc_now()
    # Newer than any earlier run's score (the latest by assessment time is the one used).
    expired = assessment(
        EXPIRING,
        95,
        95,
        assessed_at=now - timedelta(seconds=2),
        valid_until=now - timedelta(seconds=1),
    )
    await recorded(publisher, watcher, expired)

    rejected = await finish_audit(
        publisher, watcher, transfer_from(world, world.requesting, EXPIRING)
    )
    assert rejected.result.transfer is not None
    move = rejected.result.transfer.last_transition
    assert move.to_state is TransferState.RISK_REJECTED
    assert f"{EXPIRING}'s risk assessment {expired.assessment_id} expired at" in (move.reason or "")

    valid = assessment(EXPIRING, 95, 95, findings=("PATCH-LATENCY-30D",))
    await recorded(publisher, watcher, valid)
    accepted = await finish_audit(
        publisher, watcher, transfer_from(world, world.requesting, EXPIRING)
    )
    assert accepted.result.transfer is not None
    assert accepted.result.transfer.state is TransferState.RISK_ACCEPTED

    # The ledger's own history, as the Blockchain API of the signing member reads it.
    async with await ledger_api(stack, "SE-KI") as api:
        for commit, assessment_id in (
            (rejected, expired.assessment_id),
            (accepted, valid.assessment_id),
        ):
            response = await api.get(f"/v1/ledger/transfers/{commit.correlation_id}/history")
            assert response.status_code == 200, response.text
            audits = [
                item["transition"]
                for item in response.json()
                if item["transition"]["action"] in ("accept_risk", "reject_risk")
            ]
            assert len(audits) == 1
            used = {s["org_id"]: s["assessment_id"] for s in audits[0]["risk_scores"]}
            assert used[EXPIRING] == assessment_id
            assert used[world.requesting]  # the requesting side's assessment is named too


async def audit_via_api(
    api: httpx.AsyncClient, org: str, at: datetime, **params: str
) -> SafeguardAudit:
    response = await api.get(
        f"/v1/ledger/orgs/{org}/safeguards", params={"at": at.isoformat(), **params}
    )
    assert response.status_code == 200, response.text
    return SafeguardAudit.model_validate_json(response.content)


async def curex_audit(org: str, at: datetime, *extra: str) -> str:
    """`curex audit org` as a person runs it, against this test's stack."""
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("curex")),
        "audit",
        "org",
        org,
        "--at",
        at.isoformat(),
        *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=WITHIN)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_the_safeguard_audit_at_three_times_returns_exactly_what_was_declared_then(
    stack: InfraSettings, publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    before = utc_now()
    declared = [
        safeguards(AUDITED, {"ISO27001-A.8.24": PLANNED, "NIS2-21.2.J": DECLINED}),
        safeguards(AUDITED, {"ISO27001-A.8.24": DONE, "NIS2-21.2.J": DECLINED}),
        safeguards(AUDITED, {"ISO27001-A.8.24": DONE, "NIS2-21.2.J": PLANNED, "GDPR-ART32": DONE}),
    ]
    times: list[datetime] = []
    transactions: list[str] = []
    for index, result in enumerate(declared):
        transactions.append((await recorded(publisher, watcher, result)).tx_id)
        times.append(utc_now())
        if index == 1:
            # A transfer AUDITED takes part in between the second and third declarations.
            await policy_for(publisher, AUDITED)
            await recorded(publisher, watcher, assessment(AUDITED, 90, 90))
            touched = await finish_audit(
                publisher, watcher, transfer_from(world, AUDITED, world.source)
            )
            times[-1] = touched.result.transfer.created_at - timedelta(milliseconds=1)  # type: ignore[union-attr]

    async with await ledger_api(stack, "ES-SERMAS") as api:
        earlier = (await audit_via_api(api, AUDITED, before)).declaration
        assert earlier is None or earlier.tx_id not in transactions
        for at, result, tx_id in zip(times, declared, transactions, strict=True):
            audit = await audit_via_api(api, AUDITED, at)
            assert audit.declaration is not None
            assert audit.declaration.tx_id == tx_id
            assert audit.declaration.safeguards == result.safeguards
            assert audit.declaration.report_digest == result.report_digest
        since_second = await audit_via_api(api, AUDITED, times[1])
        assert [(t.transfer_id, t.role) for t in since_second.transfers] == [
            (touched.correlation_id, "requesting")
        ]
        assert (await audit_via_api(api, AUDITED, times[2])).transfers == ()
        one = await audit_via_api(api, AUDITED, times[0], safeguard="NIS2-21.2.J")
        assert one.declaration is not None
        assert [(s.code, s.status) for s in one.declaration.safeguards] == [
            ("NIS2-21.2.J", DECLINED)
        ]

    printed = await curex_audit(AUDITED, times[1])
    assert transactions[1] in printed
    assert "ISO27001-A.8.24 │ implemented" in printed
    assert "NIS2-21.2.J     │ declined" in printed
    assert touched.correlation_id in printed
    assert "GDPR-ART32" not in printed


async def test_the_blockchain_api_answers_a_bad_audit_query_with_a_reason(
    stack: InfraSettings,
) -> None:
    async with await ledger_api(stack, "SE-KI") as api:
        for path, params in (
            ("/v1/ledger/orgs/not-an-org/safeguards", {}),
            (f"/v1/ledger/orgs/{AUDITED}/safeguards", {"at": "2026-01-01T00:00:00"}),
            (f"/v1/ledger/orgs/{AUDITED}/safeguards", {"at": "yesterday"}),
            (f"/v1/ledger/orgs/{AUDITED}/safeguards", {"safeguard": "free text"}),
        ):
            response = await api.get(path, params=params)
            assert response.status_code == 422, (path, params, response.text)
            assert response.json()["detail"]


async def feedback_records(
    stack: InfraSettings, org: str, wanted: set[uuid.UUID], within: float
) -> list[TransferFeedback]:
    """Every record on ``org``'s feedback topic whose event id is wanted, read from the
    start until all are seen (and a little after, so a duplicate would show)."""
    access = observer_access(stack)
    consumer = AIOKafkaConsumer(**access.client_options(), group_id=None)
    await consumer.start()
    found: list[TransferFeedback] = []
    try:
        partition = TopicPartition(FEEDBACK.for_org(org).name, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    feedback = TransferFeedback.model_validate_json(record.value or b"")
                    if feedback.event_id in wanted:
                        found.append(feedback)
            end = (await consumer.end_offsets([partition]))[partition]
            if {f.event_id for f in found} == wanted and await consumer.position(partition) >= end:
                break
    finally:
        await consumer.stop()
    return found


async def test_each_finished_transfer_gives_one_feedback_record_per_organisation(
    stack: InfraSettings, publisher: CommandPublisher, watcher: BlockWatcher, world: SessionWorld
) -> None:
    risky = await finish_audit(
        publisher, watcher, transfer_from(world, world.requesting, world.risky)
    )
    assert risky.result.transfer is not None
    assert risky.result.transfer.state is TransferState.RISK_REJECTED
    expected: dict[str, set[uuid.UUID]] = {}
    for record in feedback_for(risky.tx_id, risky.result.transfer):
        expected.setdefault(record.org_id, set()).add(record.event_id)
    for org, wanted in expected.items():
        records = await feedback_records(stack, org, wanted, within=WITHIN)
        assert len(records) == len(wanted) == 1, records
        assert records[0].outcome is TransferState.RISK_REJECTED
        assert records[0].org_id == org
