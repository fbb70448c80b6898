"""The figures of `curex bench notify` as a rich table: measured, target, baseline."""

from rich.console import Console
from rich.table import Table

from curex.bench.latency import Percentiles
from curex.bench.notify import NotifyBenchResult
from curex.bench.rss import MIB

TARGET_P99_MS = 250.0
TARGET_CLIENTS = 10_000


def _ms(measured: Percentiles | None, which: str) -> str:
    return "n/a" if measured is None else f"{getattr(measured, which) * 1000:,.1f}"


def render(console: Console, result: NotifyBenchResult) -> None:
    bystanders = result.connected - result.recipients
    title = f"curex bench notify: {result.clients:,} clients, {result.recipients:,} of them"
    title += " the patient whose transfers change"
    if bystanders:
        title += f", {bystanders:,} another patient"
    table = Table(title=title, title_justify="left")
    for column, justify in (
        ("figure", "left"),
        ("notifier", "right"),
        ("target", "right"),
        ("baseline: bare Kafka reader", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    table.add_row(
        "committed → client p50 (ms)", _ms(result.delivery, "p50"), "", _ms(result.baseline, "p50")
    )
    table.add_row(
        "committed → client p99 (ms)",
        _ms(result.delivery, "p99"),
        f"≤ {TARGET_P99_MS:g}",
        _ms(result.baseline, "p99"),
    )
    table.add_row(
        "committed → client max (ms)", _ms(result.delivery, "max"), "", _ms(result.baseline, "max")
    )
    table.add_row(
        "connections held to the end",
        f"{result.held:,} of {result.clients:,}",
        f"{TARGET_CLIENTS:,} held",
        "",
    )
    table.add_row(
        "messages dropped (of expected)",
        f"{result.dropped:,} of {result.expected:,}",
        "0",
        "",
    )
    table.add_row(
        "frames of these transfers at another patient's clients",
        f"{result.bystander_frames:,}",
        "0",
        "",
    )
    table.add_row("notifier peak RSS (MiB)", f"{result.notifier_rss_bytes / MIB:,.0f}", "", "")
    console.print(table)
    if result.refused:
        console.print(f"connections refused: {result.refused}")
    if result.closed:
        console.print(f"connections closed by the server, by code: {result.closed}")
