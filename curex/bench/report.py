"""The bench's figures as rich tables, each beside its target where it has one."""

from collections.abc import Callable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from curex.bench.latency import Percentiles
from curex.bench.pipeline import PhaseResult
from curex.bench.rss import MIB
from curex.bench.run import BenchResult

TARGET_TRANSITIONS_PER_S = 1000.0
TARGET_P99_S = 0.050
TARGET_P99_AT_TRANSITIONS_PER_S = 200.0
TRANSITIONS_PER_TRANSFER = 4  # INITIALISED, RISK_ACCEPTED, EMERGENCY_BYPASS, DATA_AVAILABLE
TARGET_READ_LAG_S = 1.0
TARGET_READ_LAG_AT_TRANSITIONS_PER_S = 800.0

LATENCY_LABELS = ("p50", "p95", "p99", "max")
FIXED_RATE_LABELS = (
    "creates offered",
    "achieved offered rate (/s)",
    "max schedule lag (ms)",
    *(f"publish→INITIALISED {p} (ms)" for p in LATENCY_LABELS),
    *(f"publish→DATA_AVAILABLE {p} (ms)" for p in LATENCY_LABELS),
    "read-model lag p99, commit → visible (s, bucket edge)",
    "incomplete transfers",
)
SATURATION_LABELS = (
    "creates published",
    "publish burst (s)",
    "committed transitions",
    "first publish → last DATA_AVAILABLE (s)",
    "committed transitions/s",
    *(f"publish→INITIALISED {p} (ms)" for p in LATENCY_LABELS),
    *(f"publish→DATA_AVAILABLE {p} (ms)" for p in LATENCY_LABELS),
    "incomplete transfers",
)
BASELINE_LABELS = (
    "records relayed",
    "elapsed (s)",
    "messages/s",
    "pipeline transitions/s ÷ baseline msgs/s",
)
RSS_SERVICES = ("kafka", "ledger-gateway", "processors")
FIGURE_LABELS = (*FIXED_RATE_LABELS, *SATURATION_LABELS, *BASELINE_LABELS, *RSS_SERVICES)

Row = tuple[str, str, str, Text]
NO_TARGET: tuple[str, Text] = ("", Text(""))


def _number(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _met(ok: bool | None) -> Text:
    if ok is None:
        return Text("n/a", style="yellow")
    return Text("yes", style="green") if ok else Text("NO", style="bold red")


def _latency_rows(
    edge: str, measured: Percentiles | None, p99_target: tuple[str, Text] = NO_TARGET
) -> list[Row]:
    rows: list[Row] = []
    for label in LATENCY_LABELS:
        value = None if measured is None else getattr(measured, label) * 1000
        target = p99_target if label == "p99" else NO_TARGET
        rows.append((f"publish→{edge} {label} (ms)", _number(value), *target))
    return rows


def _p99_target(measured: Percentiles | None) -> tuple[str, Text]:
    met = None if measured is None else measured.p99 <= TARGET_P99_S
    return (f"≤ {TARGET_P99_S * 1000:g} ms at 200/s", _met(met))


def _table(title: str, rows: list[Row]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("figure")
    table.add_column("measured", justify="right")
    table.add_column("target")
    table.add_column("met")
    for row in rows:
        table.add_row(*row)
    return table


def _has_p99_target(rate: float) -> bool:
    """The latency target is set at 200 committed transitions/s: 50 creates/s here."""
    return rate * TRANSITIONS_PER_TRANSFER == TARGET_P99_AT_TRANSITIONS_PER_S


def _read_lag_target(rate: float, lag: float | None) -> tuple[str, Text]:
    if rate * TRANSITIONS_PER_TRANSFER != TARGET_READ_LAG_AT_TRANSITIONS_PER_S:
        return NO_TARGET
    return f"≤ {TARGET_READ_LAG_S:g}", _met(None if lag is None else lag <= TARGET_READ_LAG_S)


def fixed_rate_table(rate: float, phase: PhaseResult, duration_s: float) -> Table:
    offered = phase.offered
    target = _p99_target(phase.to_initialised) if _has_p99_target(rate) else NO_TARGET
    rows: list[Row] = [
        ("creates offered", f"{len(offered.published_at):,}", *NO_TARGET),
        ("achieved offered rate (/s)", _number(offered.rate), *NO_TARGET),
        ("max schedule lag (ms)", _number(offered.max_schedule_lag_s * 1000), *NO_TARGET),
        *_latency_rows("INITIALISED", phase.to_initialised, target),
        *_latency_rows("DATA_AVAILABLE", phase.to_available),
        (
            "read-model lag p99, commit → visible (s, bucket edge)",
            _number(phase.read_model_lag_p99_s, 3),
            *_read_lag_target(rate, phase.read_model_lag_p99_s),
        ),
        ("incomplete transfers", f"{phase.incomplete:,}", "0", _met(phase.incomplete == 0)),
    ]
    title = (
        f"Fixed rate: {rate:g} emergency creates/s "
        f"(= {rate * TRANSITIONS_PER_TRANSFER:g} committed transitions/s) for {duration_s:g} s"
    )
    return _table(title, rows)


def fixed_rate_tables(result: BenchResult) -> list[Table]:
    return [
        fixed_rate_table(rate, phase, result.options.duration_s)
        for rate, phase in zip(result.options.rates, result.fixed_rates, strict=True)
    ]


def _transitions_target(phase: PhaseResult) -> tuple[str, Text]:
    rate = phase.transitions_per_s
    met = None if rate is None else rate >= TARGET_TRANSITIONS_PER_S
    return (f"≥ {TARGET_TRANSITIONS_PER_S:,.0f}/s", _met(met))


def saturation_table(result: BenchResult) -> Table:
    phase = result.saturation
    offered = phase.offered
    expected = len(offered.published_at) * TRANSITIONS_PER_TRANSFER
    rows: list[Row] = [
        ("creates published", f"{len(offered.published_at):,}", *NO_TARGET),
        ("publish burst (s)", _number(offered.last - offered.first, 2), *NO_TARGET),
        (
            "committed transitions",
            f"{phase.transitions:,}",
            f"{expected:,}",
            _met(phase.transitions == expected),
        ),
        ("first publish → last DATA_AVAILABLE (s)", _number(phase.elapsed_s, 2), *NO_TARGET),
        ("committed transitions/s", _number(phase.transitions_per_s), *_transitions_target(phase)),
        *_latency_rows("INITIALISED", phase.to_initialised),
        *_latency_rows("DATA_AVAILABLE", phase.to_available),
        ("incomplete transfers", f"{phase.incomplete:,}", "0", _met(phase.incomplete == 0)),
    ]
    return _table(f"Saturation: {len(offered.published_at):,} emergency creates flat out", rows)


def baseline_table(result: BenchResult) -> Table:
    baseline = result.baseline
    pipeline_rate = result.saturation.transitions_per_s
    ratio = (
        pipeline_rate / baseline.messages_per_s
        if pipeline_rate is not None and baseline.messages_per_s > 0
        else None
    )
    rows: list[Row] = [
        ("records relayed", f"{baseline.messages:,}", *NO_TARGET),
        ("elapsed (s)", _number(baseline.elapsed_s, 2), *NO_TARGET),
        ("messages/s", _number(baseline.messages_per_s), *NO_TARGET),
        ("pipeline transitions/s ÷ baseline msgs/s", _number(ratio, 3), *NO_TARGET),
    ]
    table = _table("Baseline: raw aiokafka consume → JSON → produce (acks=all), one hop", rows)
    table.caption = (
        "each pipeline transition costs ~2 Kafka hops plus a ledger commit, "
        "so ~0.5 is the ceiling of the ratio before the ledger's cost"
    )
    return table


def rss_table(result: BenchResult) -> Table:
    table = Table(title="Peak RSS (process + children)", title_justify="left")
    table.add_column("service")
    table.add_column("peak MiB", justify="right")
    table.add_column("pid", justify="right")
    for name in RSS_SERVICES:
        peak = result.peak_rss.get(name)
        table.add_row(name, _number(None if peak is None else peak / MIB), str(result.pids[name]))
    return table


def targets_table(result: BenchResult) -> Table:
    rows: list[Row] = [
        (
            "committed transitions/s (saturation)",
            _number(result.saturation.transitions_per_s),
            *_transitions_target(result.saturation),
        ),
    ]
    for rate, phase in zip(result.options.rates, result.fixed_rates, strict=True):
        if rate * TRANSITIONS_PER_TRANSFER == TARGET_READ_LAG_AT_TRANSITIONS_PER_S:
            rows.append(
                (
                    f"read-model lag p99 at {rate * TRANSITIONS_PER_TRANSFER:g} transitions/s (s)",
                    _number(phase.read_model_lag_p99_s, 3),
                    *_read_lag_target(rate, phase.read_model_lag_p99_s),
                )
            )
        p99 = phase.to_initialised
        rows.append(
            (
                f"publish→INITIALISED p99 at {rate * TRANSITIONS_PER_TRANSFER:g} transitions/s"
                " (ms)",
                _number(None if p99 is None else p99.p99 * 1000),
                *(_p99_target(p99) if _has_p99_target(rate) else NO_TARGET),
            )
        )
    return _table("Targets", rows)


TABLES: tuple[Callable[[BenchResult], list[Table]], ...] = (
    fixed_rate_tables,
    lambda result: [saturation_table(result)],
    lambda result: [baseline_table(result)],
    lambda result: [rss_table(result)],
    lambda result: [targets_table(result)],
)


def render(console: Console, result: BenchResult) -> None:
    console.print(
        f"bench run {result.world.run_id}: {result.world.requesting_org} requests "
        f"from {result.world.source_org}"
    )
    for tables in TABLES:
        for table in tables(result):
            console.print(table)
