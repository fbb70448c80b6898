"""`curex demo`: the CUREX reference scenario, a Spanish traveller falls ill in Sweden.

Run once as a normal request (the patient consents in the PA) and once as an emergency
(consent waived on vital interests), each through Kafka to the ledger and back, then
print every transition the ledger committed.
"""

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable

from rich.console import Console
from rich.table import Table

from processors.intake import system_actor
from processors.settings import ProcessorSettings
from producers.block_watch import BlockWatcher, reached
from producers.kafka import durable_producer
from producers.publisher import CommandPublisher
from schemas import (
    Actor,
    CloseTransfer,
    CreateTransfer,
    GrantConsent,
    MarkReceived,
    MarkTransferred,
    OrganisationPolicy,
    RiskAssessment,
    Role,
    TransactionCommitted,
    TransferCommand,
    TransferState,
    pseudonymise,
)

HOME = "ES-SERMAS"  # Madrid: the patient's home organisation
TREATING = "SE-KI"  # Stockholm: where the patient is treated
PATIENT_ID = "ES-1000001"
STEP_TIMEOUT_S = 60.0

DEMO_POLICIES = (
    OrganisationPolicy(
        org_id=HOME, min_cybersecurity=70, min_privacy=70, consent_time_limit_s=24 * 3600
    ),
    OrganisationPolicy(
        org_id=TREATING, min_cybersecurity=75, min_privacy=65, consent_time_limit_s=24 * 3600
    ),
)
DEMO_SCORES = (
    RiskAssessment(org_id=HOME, cybersecurity_score=86, privacy_score=81, source="CAT"),
    RiskAssessment(org_id=TREATING, cybersecurity_score=90, privacy_score=84, source="CAT"),
)


async def seed_demo_organisations(publisher: CommandPublisher, watcher: BlockWatcher) -> None:
    """Register both organisations' policies and risk scores; return once committed."""
    for policy in DEMO_POLICIES:
        await publisher.publish_policy(policy, system_actor(policy.org_id))
    for assessment in DEMO_SCORES:
        await publisher.publish_risk_assessment(assessment)
    await watcher.wait_until(
        [HOME, TREATING],
        lambda reports: sum(isinstance(r, TransactionCommitted) for r in reports) >= 2,
        within=STEP_TIMEOUT_S,
    )


def _doctor(user: str, org: str) -> Actor:
    return Actor(user_id=user, org=org, role=Role.HEALTH_PROFESSIONAL)


class Scenario:
    def __init__(
        self,
        publisher: CommandPublisher,
        watcher: BlockWatcher,
        console: Console,
        pseudonym_key: bytes,
    ) -> None:
        self._publisher = publisher
        self._watcher = watcher
        self._console = console
        self._pseudonym = pseudonymise(pseudonym_key, HOME, PATIENT_ID)
        self.doctor_ki = _doctor("doctor.ki", TREATING)
        self.doctor_sermas = _doctor("doctor.sermas", HOME)
        self.patient_es = Actor(user_id=self._pseudonym, org=HOME, role=Role.PATIENT)

    async def seed(self) -> None:
        await seed_demo_organisations(self._publisher, self._watcher)

    async def run_transfer(self, *, emergency: bool) -> str:
        transfer_id = f"demo-{uuid.uuid4().hex[:12]}"
        ids = {"correlation_id": transfer_id, "transfer_id": transfer_id}
        reason = "urgent care abroad" if emergency else "continuity of care"
        await self._step(
            CreateTransfer(
                **ids,
                actor=self.doctor_ki,
                source_org=HOME,
                patient_pseudonym=self._pseudonym,
                emergency=emergency,
                reason=reason,
            ),
            TransferState.RISK_ACCEPTED,
            "doctor.ki asks ES-SERMAS for the records",
        )
        if not emergency:
            await self._step(
                GrantConsent(**ids, actor=self.patient_es),
                TransferState.DATA_AVAILABLE,
                "the patient consents in the PA",
            )
        else:
            await self._wait(
                transfer_id,
                TransferState.DATA_AVAILABLE,
                "consent waived (vital interests); records located",
            )
        await self._step(
            MarkTransferred(**ids, actor=self.doctor_sermas),
            TransferState.DATA_TRANSFERRED,
            "ES-SERMAS sends the records",
        )
        await self._step(
            MarkReceived(**ids, actor=self.doctor_ki),
            TransferState.DATA_RECEIVED,
            "SE-KI confirms receipt",
        )
        await self._step(
            CloseTransfer(**ids, actor=self.doctor_ki),
            TransferState.CLOSED,
            "doctor.ki closes the request",
        )
        return transfer_id

    async def _step(self, command: TransferCommand, until: TransferState, what: str) -> None:
        await self._publisher.publish_and_wait(command)  # type: ignore[arg-type]
        await self._wait(command.transfer_id, until, what)

    async def _wait(self, transfer_id: str, until: TransferState, what: str) -> None:
        with self._console.status(f"{what} …"):
            await self._watcher.wait_until([transfer_id], reached(until), within=STEP_TIMEOUT_S)
        self._console.print(f"  [green]✓[/] {what} → {until.value}")

    def history_table(self, transfer_id: str, title: str) -> Table:
        table = Table(title=title, title_justify="left", expand=True)
        table.add_column("block", justify="right", no_wrap=True)
        table.add_column("tx id", no_wrap=True)
        table.add_column("state", no_wrap=True)
        table.add_column("actor", no_wrap=True)
        table.add_column("reason / legal basis", ratio=1)
        seen: set[str] = set()
        for report in self._watcher.committed(transfer_id):
            transfer = report.result.transfer
            if transfer is None or report.tx_id in seen:
                continue
            seen.add(report.tx_id)
            move = transfer.last_transition
            who = {Role.PATIENT: "patient", Role.SYSTEM: "platform"}.get(
                move.actor.role, move.actor.user_id
            )
            note = move.legal_basis or move.reason or ""
            if move.to_state is TransferState.EMERGENCY_BYPASS:
                note += "; flagged for review"
            table.add_row(
                str(report.block_number),
                report.tx_id[:10],
                move.to_state.value,
                f"{who} ({move.actor.org})",
                note,
            )
        return table


async def run_demo(bootstrap: str, console: Console) -> None:
    producer = durable_producer(bootstrap)
    await producer.start()
    try:
        async with BlockWatcher(bootstrap) as watcher:
            scenario = Scenario(
                CommandPublisher(producer),
                watcher,
                console,
                ProcessorSettings().pseudonym_key.encode(),
            )
            console.print("[bold]Seeding risk policies and assessments of ES-SERMAS and SE-KI")
            await scenario.seed()
            runs: list[tuple[str, Callable[[], Awaitable[str]]]] = [
                (
                    "Normal transfer (patient consents)",
                    lambda: scenario.run_transfer(emergency=False),
                ),
                (
                    "Emergency transfer (consent waived, flagged for review)",
                    lambda: scenario.run_transfer(emergency=True),
                ),
            ]
            finished = []
            for title, run in runs:
                console.print(f"\n[bold]{title}")
                finished.append((title, await run()))
            for title, transfer_id in finished:
                console.print()
                console.print(scenario.history_table(transfer_id, f"{title}: {transfer_id}"))
    finally:
        await producer.stop()


def demo_command() -> None:
    """Run the reference scenario end to end and print each transfer's ledger history."""
    # Piped output (CI logs) gets room for the history tables instead of 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=130)
    asyncio.run(run_demo(ProcessorSettings().kafka_bootstrap, console))
