"""The figures of `curex bench ledger` as a rich table."""

from rich.console import Console
from rich.table import Table

from curex.bench.ledger import BARE, FABRIC, LedgerBenchResult, LedgerRun

COLUMNS = ("committed", "failed", "elapsed (s)", "tx/s", "p50 (ms)", "p99 (ms)", "max (ms)")


def _ms(run: LedgerRun, percentile: str) -> str:
    if run.latency is None:
        return "n/a"
    return f"{getattr(run.latency, percentile) * 1000:,.1f}"


def render(console: Console, result: LedgerBenchResult) -> None:
    table = Table(title="Ledger commits", title_justify="left")
    table.add_column("ledger")
    for column in COLUMNS:
        table.add_column(column, justify="right")
    for run in result.runs:
        table.add_row(
            run.name,
            f"{run.committed:,}",
            f"{run.failed:,}",
            f"{run.elapsed_s:,.2f}",
            f"{run.per_s:,.1f}",
            _ms(run, "p50"),
            _ms(run, "p99"),
            _ms(run, "max"),
        )
    console.print(table)
    port, bare = result.run(FABRIC), result.run(BARE)
    if port is not None and bare is not None and bare.per_s:
        console.print(
            f"FabricLedger tx/s ÷ bare Gateway client tx/s: {port.per_s / bare.per_s:.2f}"
        )
