"""The `curex` console script.

Other packages add commands to `app` with `app.command()` or `app.add_typer()`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from curex.audit import audit_app
from curex.bench import bench_app
from curex.credentials import credentials_command
from curex.demo import demo_command
from curex.progress_display import RichProgressReporter
from curex.schemas_cli import schemas_app
from infra.errors import InfraError
from infra.settings import InfraSettings
from infra.stack import (
    ServiceStatus,
    select_services,
    stack_status,
    start_services,
    stop_stack,
)

app = typer.Typer(
    name="curex",
    help="CUREX cross-border health data exchange: run the local stack and its tools.",
    no_args_is_help=True,
    add_completion=False,
)


class LedgerChoice(StrEnum):
    embedded = "embedded"
    fabric = "fabric"


@contextmanager
def _reported_errors(console: Console) -> Iterator[None]:
    try:
        yield
    except InfraError as exc:
        # Text, not markup: messages carry log lines whose brackets rich would eat.
        console.print(Text("error: ", style="bold red") + Text(str(exc)))
        raise typer.Exit(1) from exc


def _status_table(statuses: list[ServiceStatus]) -> Table:
    table = Table(title="curex services")
    for column in ("service", "state", "pid", "address", "health"):
        table.add_column(column)
    for status in statuses:
        state_style = "green" if status.state == "RUNNING" else "yellow"
        health_style = "green" if status.health == "healthy" else "red"
        table.add_row(
            status.name,
            Text(status.state, style=state_style),
            str(status.pid) if status.pid is not None else "-",
            status.address,
            Text(status.health, style=health_style if status.health != "-" else ""),
        )
    return table


@app.command()
def up(
    ledger: Annotated[
        LedgerChoice | None,
        typer.Option(help="Ledger behind the gateway (default: CUREX_LEDGER or embedded)."),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Start only this service and what it depends on; repeat for more.",
        ),
    ] = None,
) -> None:
    """Fetch (first time), configure and start the local services; return when all are healthy."""
    console = Console()
    settings = InfraSettings()
    if ledger is not None:
        settings = settings.model_copy(update={"ledger": ledger.value})
    with _reported_errors(console):
        specs = select_services(settings, only)
        with RichProgressReporter(console) as progress:
            start_services(settings, specs, progress)
    names = ", ".join(spec.name for spec in specs)
    console.print(f"[green]healthy:[/] {names}; data in {settings.data_dir}")


@app.command()
def status() -> None:
    """Show each service: state, pid, address and health."""
    console = Console()
    with _reported_errors(console):
        console.print(_status_table(stack_status(InfraSettings())))


@app.command()
def down(
    purge: Annotated[
        bool, typer.Option("--purge", help="Also delete the data dir (topics, ledger, logs).")
    ] = False,
) -> None:
    """Stop everything `up` started; data stays unless --purge."""
    console = Console()
    settings = InfraSettings()
    with _reported_errors(console):
        stop_stack(settings, purge=purge)
    console.print(f"stopped; {'deleted' if purge else 'data kept in'} {settings.data_dir}")


app.add_typer(schemas_app, name="schemas")
app.command("demo")(demo_command)
app.command("credentials")(credentials_command)
app.add_typer(bench_app, name="bench")
app.add_typer(audit_app, name="audit")


def main() -> None:
    app()
