"""``curex bench``: measured figures of the running stack."""

import sys
from collections.abc import Sequence
from typing import Annotated

import typer
import uvloop
from rich.console import Console
from rich.text import Text

from curex.bench import api_report
from curex.bench.api import ApiBench, ApiBenchOptions
from curex.bench.errors import BenchError
from curex.bench.ledger import LedgerBenchOptions, run_ledger_bench
from curex.bench.ledger_report import render as render_ledger
from curex.bench.notify import NotifyBench, NotifyBenchOptions
from curex.bench.notify_report import render as render_notify
from curex.bench.report import REQUIRED_SERVICES, render
from curex.bench.run import BenchOptions, run_bench
from infra.errors import InfraError
from infra.postgres.server import database_url
from infra.settings import InfraSettings
from infra.stack import stack_status

bench_app = typer.Typer(
    help="Measure the running stack: throughput, latency percentiles, memory.",
    no_args_is_help=True,
)


DEFAULT_RATES = (50.0, 200.0)
API_SERVICES = (
    "kafka",
    "postgres",
    "keycloak",
    "ledger-gateway",
    "processors",
    "read-model",
    "applications-server",
)
FABRIC_SERVICES = (
    "fabric-orderer",
    "fabric-peer-es-sermas",
    "fabric-peer-se-ki",
    "fabric-chaincode-es-sermas",
    "fabric-chaincode-se-ki",
)


def _healthy_pids(settings: InfraSettings, services: Sequence[str]) -> dict[str, int]:
    """The pid of each service the bench needs; BenchError if any is not healthy."""
    try:
        statuses = {status.name: status for status in stack_status(settings)}
    except InfraError as exc:
        raise BenchError(f"cannot read the stack's status ({exc}); run `curex up` first") from exc
    pids: dict[str, int] = {}
    unhealthy: list[str] = []
    for name in services:
        status = statuses.get(name)
        if status is None or status.health != "healthy" or status.pid is None:
            unhealthy.append(f"{name} ({status.health if status else 'unknown'})")
        else:
            pids[name] = status.pid
    if unhealthy:
        raise BenchError(f"not healthy: {', '.join(unhealthy)}; run `curex up` first")
    return pids


def _stack_pids(settings: InfraSettings, required: Sequence[str]) -> dict[str, int]:
    """Every running process of the stack, once ``required`` are all healthy."""
    pids = _healthy_pids(settings, required)
    for status in stack_status(settings):
        if status.pid is not None:
            pids.setdefault(status.name, status.pid)
    return pids


def _fail(console: Console, message: str) -> typer.Exit:
    console.print(Text("error: ", style="bold red") + Text(message))
    return typer.Exit(1)


@bench_app.command("pipeline")
def pipeline(
    rate: Annotated[
        list[float] | None,
        typer.Option(
            min=0.1,
            help="Offered creates/s of a fixed-rate phase; repeat for several phases "
            "(default: 50 and 200, i.e. 200 and 800 committed transitions/s).",
        ),
    ] = None,
    duration: Annotated[
        float, typer.Option(min=0.1, help="Seconds of the fixed-rate phase.")
    ] = 10.0,
    saturation_count: Annotated[
        int, typer.Option(min=1, help="Creates published flat out in the saturation phase.")
    ] = 5000,
    warmup: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Unmeasured seconds at the highest rate, at least; then on in 5 s windows "
            "until the broker's JIT compilers are quiet (0: no warm-up).",
        ),
    ] = 5.0,
    warmup_max: Annotated[float, typer.Option(min=0.0, help="Seconds of warm-up at most.")] = 60.0,
    deadline: Annotated[
        float, typer.Option(min=1.0, help="Seconds to wait for each phase to complete.")
    ] = 120.0,
) -> None:
    """Emergency transfers through Kafka, the processors and the ledger: latency, rate, RSS."""
    console = Console(log_path=False)
    settings = InfraSettings()
    options = BenchOptions(
        tuple(rate or DEFAULT_RATES), duration, saturation_count, deadline, warmup, warmup_max
    )
    try:
        pids = _stack_pids(settings, REQUIRED_SERVICES)
        result = uvloop.run(
            run_bench(
                settings,
                settings.read_model_port,
                database_url(settings),
                pids,
                options,
                lambda line: console.log(f"[dim]{line}"),
            )
        )
    except BenchError as exc:
        raise _fail(console, str(exc)) from exc
    render(console, result)
    if result.incomplete:
        raise _fail(
            console,
            f"{result.incomplete} transfer(s) did not reach DATA_AVAILABLE within {deadline:g}s",
        )


@bench_app.command("api")
def api(
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight.")] = 16,
    requests: Annotated[
        int, typer.Option(min=1, help="Measured requests of each endpoint.")
    ] = 1000,
    max_duration: Annotated[
        float, typer.Option(min=0.1, help="Seconds after which a phase sends no new request.")
    ] = 60.0,
    warmup: Annotated[
        int, typer.Option(min=0, help="Unmeasured requests before each endpoint's phase.")
    ] = 50,
    emergency: Annotated[
        bool, typer.Option(help="Create emergency transfers (else normal ones).")
    ] = True,
    publish_count: Annotated[
        int, typer.Option(min=1, help="Messages of each raw Kafka publish phase.")
    ] = 5000,
    deadline: Annotated[
        float, typer.Option(min=1.0, help="Seconds to wait for seeding and for settling.")
    ] = 120.0,
    transfers: Annotated[
        int,
        typer.Option(min=0, help="Transfers to seed into the read model (COPY) before measuring."),
    ] = 0,
) -> None:
    """REST API requests/s and p50/p99 latency, beside the raw Kafka publish rate and the
    same reads straight through the database driver."""
    # Piped output (CI logs) gets room for the tables instead of 80 columns.
    console = Console(log_path=False, width=None if sys.stdout.isatty() else 130)
    settings = InfraSettings()
    options = ApiBenchOptions(
        concurrency, requests, max_duration, warmup, emergency, deadline, publish_count, transfers
    )
    try:
        _healthy_pids(settings, API_SERVICES)
        result = uvloop.run(
            ApiBench(settings, options, lambda line: console.log(f"[dim]{line}")).run()
        )
    except BenchError as exc:
        raise _fail(console, str(exc)) from exc
    api_report.render(console, result)
    if result.failed:
        raise _fail(console, f"{result.failed} request(s) failed; the figures are not valid")


@bench_app.command("ledger")
def ledger(
    transactions: Annotated[
        int, typer.Option(min=1, help="Measured transactions of each ledger run.")
    ] = 2000,
    concurrency: Annotated[int, typer.Option(min=1, help="Transactions in flight.")] = 64,
    warmup: Annotated[
        int, typer.Option(min=0, help="Unmeasured transactions before each run.")
    ] = 200,
    fabric: Annotated[
        bool,
        typer.Option(help="Also measure Fabric (needs `curex up --ledger fabric`)."),
    ] = True,
) -> None:
    """Ledger tx/s and commit latency: embedded, Fabric, and a bare Gateway client baseline."""
    console = Console(log_path=False, width=None if sys.stdout.isatty() else 130)
    settings = InfraSettings()
    options = LedgerBenchOptions(transactions, concurrency, warmup)
    try:
        fabric_pids = _healthy_pids(settings, FABRIC_SERVICES) if fabric else None
        result = uvloop.run(
            run_ledger_bench(
                settings, options, fabric_pids, lambda line: console.log(f"[dim]{line}")
            )
        )
    except BenchError as exc:
        raise _fail(console, str(exc)) from exc
    render_ledger(console, result)
    failed = sum(run.failed for run in result.runs)
    if failed:
        raise _fail(console, f"{failed} transaction(s) failed; the figures are not valid")


@bench_app.command("notify")
def notify(
    clients: Annotated[int, typer.Option(min=1, help="WebSocket clients held open.")] = 200,
    recipients: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Clients connected as the patient whose transfers change (default: all); "
            "the others connect as another patient, who must receive nothing of it.",
        ),
    ] = None,
    transfers: Annotated[
        int, typer.Option(min=1, help="Emergency transfers created: four changes each.")
    ] = 10,
    rate: Annotated[float, typer.Option(min=0.1, help="Creates/s offered.")] = 25.0,
    deadline: Annotated[
        float, typer.Option(min=1.0, help="Seconds to wait for connections and changes.")
    ] = 120.0,
) -> None:
    """Committed change → WebSocket client p50/p99 with N clients, connections held,
    messages dropped and the notifier's RSS, beside a bare Kafka reader of the same changes."""
    console = Console(log_path=False, width=None if sys.stdout.isatty() else 130)
    settings = InfraSettings()
    if recipients is not None and recipients > clients:
        raise _fail(Console(), f"--recipients {recipients} is more than --clients {clients}")
    options = NotifyBenchOptions(clients, recipients, transfers, rate, deadline)
    try:
        pids = _healthy_pids(settings, (*API_SERVICES, "notifier"))
        result = uvloop.run(
            NotifyBench(
                settings, pids["notifier"], options, lambda line: console.log(f"[dim]{line}")
            ).run()
        )
    except BenchError as exc:
        raise _fail(console, str(exc)) from exc
    render_notify(console, result)
