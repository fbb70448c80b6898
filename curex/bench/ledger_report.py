"""The figures of `curex bench ledger` as a rich table."""

from rich.console import Console
from rich.table import Table
from rich.text import Text

from curex.bench.ledger import BARE, FABRIC, LedgerBenchResult, LedgerRun
from curex.bench.ledger_storage import StorageFigures

TARGET_BYTES_PER_TX = 2048
TARGET_FABRIC_TX_PER_S = 300.0
TARGET_FABRIC_P99_S = 0.5
TARGET_PORT_RATIO = 0.95
TARGET_FABRIC_CPU_MS = 5.0

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
    console.print(cpu_table(result))
    console.print(storage_table(result.storage))
    port, bare = result.run(FABRIC), result.run(BARE)
    if port is not None and bare is not None:
        console.print(fabric_targets_table(port, bare))


def _met(ok: bool | None) -> Text:
    if ok is None:
        return Text("n/a", style="yellow")
    return Text("yes", style="green") if ok else Text("NO", style="bold red")


def fabric_targets_table(port: LedgerRun, bare: LedgerRun) -> Table:
    table = Table(title="Fabric targets", title_justify="left")
    for column in ("figure", "measured", "target", "met"):
        table.add_column(column, justify="right" if column == "measured" else "left")
    p99 = None if port.latency is None else port.latency.p99
    ratio = port.per_s / bare.per_s if bare.per_s else None
    cpu = port.cpu_ms_per_tx
    rows = [
        (
            "FabricLedger tx/s",
            f"{port.per_s:,.1f}",
            f"≥ {TARGET_FABRIC_TX_PER_S:g}",
            _met(port.per_s >= TARGET_FABRIC_TX_PER_S),
        ),
        (
            "FabricLedger commit p99 (ms)",
            "n/a" if p99 is None else f"{p99 * 1000:,.1f}",
            f"≤ {TARGET_FABRIC_P99_S * 1000:g}",
            _met(None if p99 is None else p99 <= TARGET_FABRIC_P99_S),
        ),
        (
            "FabricLedger tx/s ÷ bare Gateway client tx/s",
            "n/a" if ratio is None else f"{ratio:.3f}",
            f"≥ {TARGET_PORT_RATIO:g}",
            _met(None if ratio is None else ratio >= TARGET_PORT_RATIO),
        ),
        (
            "CPU per committed tx, every process (ms)",
            "n/a" if cpu is None else f"{cpu:,.2f}",
            f"≤ {TARGET_FABRIC_CPU_MS:g}",
            _met(None if cpu is None else cpu <= TARGET_FABRIC_CPU_MS),
        ),
    ]
    for row in rows:
        table.add_row(*row)
    return table


def storage_table(storage: StorageFigures) -> Table:
    table = Table(
        title=f"Embedded ledger storage: {storage.transactions:,} transactions of the "
        "emergency path (create, audit, bypass, data available)",
        title_justify="left",
    )
    table.add_column("stored")
    table.add_column("bytes per transaction", justify="right")
    table.add_column("target")
    table.add_column("met")
    for name, size in sorted(storage.bytes_by_object.items(), key=lambda item: -item[1]):
        table.add_row(name, f"{size / storage.transactions:,.0f}", "", "")
    met = storage.per_transaction <= TARGET_BYTES_PER_TX
    table.add_row(
        "all tables and indexes",
        f"{storage.per_transaction:,.0f}",
        f"≤ {TARGET_BYTES_PER_TX:,}",
        Text("yes", style="green") if met else Text("NO", style="bold red"),
    )
    table.add_row(
        "baseline: the same as plain documents",
        f"{storage.plain_per_transaction:,.0f}",
        "",
        "",
    )
    return table


def cpu_table(result: LedgerBenchResult) -> Table:
    """CPU per committed transaction, summed over every process of each run."""
    table = Table(title="CPU per committed transaction (ms)", title_justify="left")
    table.add_column("ledger")
    table.add_column("process")
    table.add_column("ms per tx", justify="right")
    for run in result.runs:
        total = run.cpu_ms_per_tx
        for name, seconds in sorted(run.cpu_s.items(), key=lambda item: -item[1]):
            table.add_row(run.name, name, f"{seconds * 1000 / max(run.committed, 1):,.3f}")
        table.add_row(run.name, "all processes", "n/a" if total is None else f"{total:,.3f}")
    return table
