"""`curex audit org X --at T`: what organisation X had declared about its safeguards at T,
and the transfers it took part in since, as the ledger records them.

Read through a member's Blockchain API (by default the one that signs for X) with that
member's client of the ``curex-ledger`` realm.
"""

import asyncio
from datetime import datetime
from typing import Annotated

import httpx
import typer
from pydantic import ValidationError
from rich.console import Console

from curex.audit_table import audit_report
from curex.errors import ApiError
from curex.rest_client import client_credentials_token
from infra.secrets import ledger_access
from infra.settings import InfraSettings
from schemas import SafeguardAudit, utc_now

audit_app = typer.Typer(help="Audit the ledger's assessment record.", no_args_is_help=True)


def parse_time(text: str) -> datetime:
    """ISO 8601 with a UTC offset (``Z`` is UTC); ``now`` is the current time."""
    if text == "now":
        return utc_now()
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 time") from None
    if at.tzinfo is None:
        raise typer.BadParameter("give the time with a UTC offset, e.g. 2026-11-30T09:00:00Z")
    return at


async def fetch_audit(
    settings: InfraSettings, org: str, at: datetime, via: str, safeguard: str | None
) -> SafeguardAudit:
    access = ledger_access(settings).get(via)
    if access is None:
        raise ApiError(f"no Blockchain API of {via}; members: {', '.join(ledger_access(settings))}")
    token = await client_credentials_token(
        settings.keycloak_url, access["client_id"], access["client_secret"]
    )
    params = {"at": at.isoformat(), **({"safeguard": safeguard} if safeguard else {})}
    async with httpx.AsyncClient(base_url=access["base_url"], timeout=30) as http:
        try:
            response = await http.get(
                f"/v1/ledger/orgs/{org}/safeguards",
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.TransportError as error:
            raise ApiError(f"the Blockchain API of {via} is unreachable: {error}") from error
    if response.status_code != 200:
        raise ApiError(
            f"the Blockchain API of {via} answered {response.status_code}: {response.text}"
        )
    try:
        return SafeguardAudit.model_validate_json(response.content)
    except ValidationError as error:
        raise ApiError(f"unreadable answer from the Blockchain API of {via}") from error


@audit_app.command("org")
def audit_org(
    org: Annotated[str, typer.Argument(help="The audited organisation, e.g. ES-SERMAS.")],
    at: Annotated[
        str, typer.Option("--at", help="ISO 8601 time with a UTC offset, or 'now'.")
    ] = "now",
    safeguard: Annotated[
        str | None, typer.Option(help="Only this safeguard code, e.g. ISO27001-A.8.24.")
    ] = None,
    via: Annotated[
        str | None,
        typer.Option(help="The member whose Blockchain API to ask (default: the org's host)."),
    ] = None,
) -> None:
    """Print what ORG had declared about its safeguards at --at, and its transfers since."""
    when = parse_time(at)
    settings = InfraSettings()
    member = via or settings.network.host_of(org) or settings.network.members[0]
    console = Console()
    try:
        audit = asyncio.run(fetch_audit(settings, org, when, member, safeguard))
    except ApiError as error:
        Console(stderr=True).print(f"[red]{error}[/]")
        raise typer.Exit(1) from error
    for part in audit_report(audit, member):
        console.print(part)
