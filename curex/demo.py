"""`curex demo`: the CUREX reference scenario, a Spanish traveller falls ill in Sweden.

The demo users sign in at Keycloak and act through the Applications Server's REST API:
once a normal request (the patient consents in the PA) and once an emergency (consent
waived on vital interests). Each step goes through Kafka to the ledger and back; the
demo then prints every transition with the ledger's transaction id and block.
"""

import asyncio
import sys

from pydantic import model_validator
from rich.console import Console
from rich.table import Table

from curex.assessments import assessment, safeguards
from curex.block_watch import BlockWatcher
from curex.bus import open_bus
from curex.errors import ApiError
from curex.rest_client import ApplicationsClient, password_token
from infra.settings import InfraSettings
from processors.intake import system_actor
from producers.publisher import CommandPublisher
from schemas import (
    Actor,
    OrganisationPolicy,
    RiskAssessment,
    Role,
    SafeguardStatus,
    TransactionCommitted,
    TransferState,
)
from service_runtime.settings import ServiceSettings

HOME = "ES-SERMAS"  # Madrid: the patient's home organisation
TREATING = "SE-KI"  # Stockholm: where the patient is treated
PATIENT_ID = "ES-1000001"
DEMO_PASSWORD = "demo-password"
STEP_TIMEOUT_S = 60.0

DEMO_POLICIES = (
    OrganisationPolicy(
        org_id=HOME, min_cybersecurity=70, min_privacy=70, consent_time_limit_s=24 * 3600
    ),
    OrganisationPolicy(
        org_id=TREATING, min_cybersecurity=75, min_privacy=65, consent_time_limit_s=24 * 3600
    ),
)
# Each organisation's scores, the findings that weighed most, and its declared safeguards.
DEMO_SCORES = (
    (HOME, 86, 81, ("PATCH-LATENCY-30D", "MFA-PARTIAL")),
    (TREATING, 90, 84, ("LOG-RETENTION-90D",)),
)
_I, _P = SafeguardStatus.IMPLEMENTED, SafeguardStatus.PLANNED
DEMO_SAFEGUARDS = (
    (HOME, {"ISO27001-A.8.24": _I, "ISO27001-A.5.17": _P, "GDPR-ART32-PSEUDO": _I}),
    (TREATING, {"ISO27001-A.8.24": _I, "ISO27001-A.5.17": _I, "GDPR-ART32-PSEUDO": _I}),
)


def demo_assessments() -> list[RiskAssessment]:
    """Fresh assessments of both organisations (new ids: a repeated event id is a no-op)."""
    return [
        assessment(org, cybersecurity, privacy, findings=findings)
        for org, cybersecurity, privacy, findings in DEMO_SCORES
    ]


async def seed_demo_organisations(publisher: CommandPublisher, watcher: BlockWatcher) -> None:
    """Register both organisations' policies, risk scores and safeguard results; return
    once committed."""
    already = {org: len(watcher.committed(org)) for org in (HOME, TREATING)}
    for policy in DEMO_POLICIES:
        await publisher.publish_policy(policy, system_actor(policy.org_id))
    for fresh in demo_assessments():
        await publisher.publish_risk_assessment(fresh)
    for org, statuses in DEMO_SAFEGUARDS:
        await publisher.publish_safeguards(safeguards(org, statuses))
    await watcher.wait_until(
        [HOME, TREATING],
        lambda reports: (
            sum(isinstance(r, TransactionCommitted) for r in reports)
            >= already[reports[0].correlation_id] + 3
            if reports
            else False
        ),
        within=STEP_TIMEOUT_S,
    )


def _doctor(user: str, org: str) -> Actor:
    return Actor(user_id=user, org=org, role=Role.HEALTH_PROFESSIONAL)


class Scenario:
    """The demo users, signed in at Keycloak, acting through the Applications Server."""

    def __init__(
        self,
        console: Console,
        doctor_ki: ApplicationsClient,
        doctor_sermas: ApplicationsClient,
        patient_es: ApplicationsClient,
    ) -> None:
        self._console = console
        self.doctor_ki = doctor_ki
        self.doctor_sermas = doctor_sermas
        self.patient_es = patient_es

    async def run_transfer(self, *, emergency: bool) -> str:
        transfer_id = await self.doctor_ki.create(
            patient_id=PATIENT_ID, source_org=HOME, emergency=emergency
        )
        await self._wait(
            transfer_id,
            TransferState.RISK_ACCEPTED,
            "doctor.ki asks ES-SERMAS for the records; both risk scores pass",
        )
        if emergency:
            await self._wait(
                transfer_id,
                TransferState.DATA_AVAILABLE,
                "consent waived (vital interests); records located",
            )
        else:
            await self.patient_es.act(transfer_id, "consent", {"decision": "grant"})
            await self._wait(
                transfer_id, TransferState.DATA_AVAILABLE, "patient.es consents; records located"
            )
        await self.doctor_sermas.act(transfer_id, "transferred")
        await self._wait(
            transfer_id, TransferState.DATA_TRANSFERRED, "doctor.sermas sends the records"
        )
        await self.doctor_ki.act(transfer_id, "received")
        await self._wait(transfer_id, TransferState.DATA_RECEIVED, "doctor.ki confirms receipt")
        await self.doctor_ki.act(transfer_id, "close")
        await self._wait(transfer_id, TransferState.CLOSED, "doctor.ki closes the request")
        return transfer_id

    async def _wait(self, transfer_id: str, until: TransferState, what: str) -> None:
        with self._console.status(f"{what} …"):
            await self.doctor_ki.wait_state(transfer_id, until, within=STEP_TIMEOUT_S)
        self._console.print(f"  [green]✓[/] {what} → {until.value}")

    async def history_table(self, transfer_id: str, title: str) -> Table:
        table = Table(title=title, title_justify="left", expand=True)
        table.add_column("block", justify="right", no_wrap=True)
        table.add_column("tx id", no_wrap=True)
        table.add_column("state", no_wrap=True)
        table.add_column("actor", no_wrap=True)
        table.add_column("reason / legal basis", ratio=1)
        # Read as the patient: the history a patient sees in the PA.
        for entry in await self.patient_es.history(transfer_id):
            actor = entry["actor"]
            who = {"patient": "patient", "system": "platform"}.get(actor["role"], actor["user_id"])
            note = entry.get("legal_basis") or entry.get("reason") or ""
            if entry["to_state"] == TransferState.EMERGENCY_BYPASS.value:
                note += "; flagged for review"
            table.add_row(
                str(entry["block_number"]),
                entry["tx_id"][:10],
                entry["to_state"],
                f"{who} ({actor['org']})",
                note,
            )
        return table

    async def assessments_table(self, transfer_id: str) -> Table:
        """The assessments the risk audit decided on, as the ledger's transition names them."""
        record = await self.doctor_ki.ledger_record(transfer_id)
        table = Table(title="  the risk audit's evidence (from the ledger)", title_justify="left")
        for column in ("decision", "organisation", "assessment", "tool", "cyber", "privacy"):
            table.add_column(column, no_wrap=True)
        table.add_column("valid until", no_wrap=True)
        for item in record["history"]:
            move = item["transition"]
            for used in move.get("risk_scores", []):
                table.add_row(
                    move["to_state"],
                    used["org_id"],
                    used.get("assessment_id") or "(unnamed)",
                    used.get("source") or "",
                    str(used["cybersecurity_score"]),
                    str(used["privacy_score"]),
                    (used.get("valid_until") or "")[:19],
                )
        return table

    async def ledger_check(self, transfer_id: str) -> str:
        """Compares the history users see with the ledger's own record of each transaction.

        The record comes from SE-KI's Blockchain API: on Fabric, the chaincode's history read
        on SE-KI's peer, with each transaction's block as the peer's qscc reports it.
        """
        seen = [(e["tx_id"], e["block_number"]) for e in await self.doctor_ki.history(transfer_id)]
        record = await self.doctor_ki.ledger_record(transfer_id)
        recorded = [(h["tx_id"], h["block_number"]) for h in record["history"]]
        if seen != recorded:
            raise ApiError(f"{transfer_id}: history {seen} differs from the ledger's {recorded}")
        return (
            f"  [green]✓[/] all {len(seen)} transactions and blocks match {record['ledger_of']}'s "
            "ledger record"
        )


class DemoSettings(ServiceSettings):
    keycloak_url: str = "http://127.0.0.1:8180"
    # A second stack on other ports sets CUREX_KEYCLOAK_PORT, as `curex up` reads it.
    keycloak_port: int = 8180
    api_port: int = 8080

    @model_validator(mode="after")
    def _keycloak_of_this_stack(self) -> "DemoSettings":
        if "keycloak_url" not in self.model_fields_set:
            self.keycloak_url = f"http://127.0.0.1:{self.keycloak_port}"
        return self

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"


async def run_demo(settings: DemoSettings, console: Console) -> None:
    async with open_bus(InfraSettings()) as bus, BlockWatcher(bus.observer) as watcher:
        console.print(
            "[bold]Seeding risk policies, assessments and safeguard results of ES-SERMAS and SE-KI"
        )
        await seed_demo_organisations(bus.publisher, watcher)
    console.print("[bold]Signing in doctor.ki, doctor.sermas and patient.es at Keycloak")
    tokens = [
        await password_token(settings.keycloak_url, user, DEMO_PASSWORD)
        for user in ("doctor.ki", "doctor.sermas", "patient.es")
    ]
    async with (
        ApplicationsClient(settings.api_url, tokens[0]) as doctor_ki,
        ApplicationsClient(settings.api_url, tokens[1]) as doctor_sermas,
        ApplicationsClient(settings.api_url, tokens[2]) as patient_es,
    ):
        scenario = Scenario(console, doctor_ki, doctor_sermas, patient_es)
        runs = [
            ("Normal transfer (patient consents)", False),
            ("Emergency transfer (consent waived, flagged for review)", True),
        ]
        finished = []
        for title, emergency in runs:
            console.print(f"\n[bold]{title}")
            finished.append((title, await scenario.run_transfer(emergency=emergency)))
        for title, transfer_id in finished:
            console.print()
            console.print(await scenario.history_table(transfer_id, f"{title}: {transfer_id}"))
            console.print(await scenario.assessments_table(transfer_id))
            console.print(await scenario.ledger_check(transfer_id))


def demo_command() -> None:
    """Run the reference scenario through the REST API; print each transfer's ledger history."""
    # Piped output (CI logs) gets room for the history tables instead of 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=130)
    asyncio.run(run_demo(DemoSettings(), console))
