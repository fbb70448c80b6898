"""`curex credentials PRINCIPAL`: how a client of this installation's bus connects as
PRINCIPAL (an external risk-assessment feed, say), as aiokafka settings in JSON."""

import json
from typing import Annotated

import typer
from rich.console import Console

from infra.kafka.principals import principals
from infra.kafka.security import kafka_access
from infra.settings import InfraSettings


def credentials_command(
    principal: Annotated[
        str, typer.Argument(help="The principal, e.g. risk-feed-es-sermas (see --list).")
    ] = "",
    list_principals: Annotated[
        bool, typer.Option("--list", help="List this installation's principals.")
    ] = False,
) -> None:
    """Print a principal's aiokafka client settings (it holds a secret: keep it so)."""
    settings = InfraSettings()
    known = principals(settings.network)
    if list_principals or not principal:
        typer.echo("\n".join(known))
        return
    if principal not in known:
        Console(stderr=True).print(f"[red]no principal {principal!r}[/]; known: {', '.join(known)}")
        raise typer.Exit(2)
    typer.echo(json.dumps(kafka_access(settings, principal).client_options(), indent=2))
