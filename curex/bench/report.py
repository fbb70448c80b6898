"""The pipeline bench's figures as rich tables, each beside its target where it has one."""

import os
from collections.abc import Callable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from curex.bench.latency import Percentiles
from curex.bench.paths import EMERGENCY_PATH, PathLatencies
from curex.bench.pipeline import PhaseResult
from curex.bench.rss import MIB
from curex.bench.run import BenchResult
from curex.bench.warm_up import QUIET_SHARE

TARGET_TRANSITIONS_PER_S = 1000.0
TRANSITIONS_PER_TRANSFER = len(EMERGENCY_PATH)
# Every transition's p99 (its cause → its commit) at a committed-transition rate.
TARGET_STEP_P99_S = {200.0: 0.050, 800.0: 0.250}
TARGET_READ_LAG_S = 1.0
TARGET_READ_LAG_AT_TRANSITIONS_PER_S = 800.0
TARGET_PYTHON_RSS_MIB = 150.0
# The stack's Python services: each is held to the RSS target.
PYTHON_SERVICES = (
    "ledger-gateway",
    "ledger-gateway-se-ki",
    "processors",
    "read-model",
    "applications-server",
    "notifier",
)
# The bench cannot run without these.
REQUIRED_SERVICES = ("kafka", "ledger-gateway", "ledger-gateway-se-ki", "processors", "read-model")

PERCENTILES = ("p50", "p95", "p99", "max")
PHASE_LABELS = (
    "creates offered",
    "completed transfers",
    "committed transitions/s achieved",
)
LATENCY_LABELS = tuple(
    f"{kind}→{state.value}" for state in EMERGENCY_PATH for kind in ("publish", "step")
)
BASELINE_LABELS = (
    "baseline committed transitions/s",
    "pipeline ÷ baseline (transitions/s)",
    "all processes",
)
WARM_UP_LABELS = ("warm-up (s)", "broker JIT compilers, last window (share of a core)")
FIGURE_LABELS = (
    *WARM_UP_LABELS,
    *PHASE_LABELS,
    *LATENCY_LABELS,
    *BASELINE_LABELS,
    *REQUIRED_SERVICES,
)

Row = tuple[str, ...]


def _number(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _ms(value: Percentiles | None, label: str) -> str:
    return _number(None if value is None else getattr(value, label) * 1000)


def _met(ok: bool | None) -> Text:
    if ok is None:
        return Text("n/a", style="yellow")
    return Text("yes", style="green") if ok else Text("NO", style="bold red")


def _table(title: str, columns: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 or column == "target" else "right")
    return table


def _step_target(transitions_per_s: float) -> float | None:
    return TARGET_STEP_P99_S.get(transitions_per_s)


def latency_table(title: str, paths: PathLatencies, step_target: float | None) -> Table:
    """One row per state: end to end from the publish, and the transition's own step."""
    table = _table(title, ("latency (ms)", *PERCENTILES, "count", "target", "met"))
    for state in paths.path:
        for kind, figures in (("publish", paths.end_to_end), ("step", paths.step)):
            measured = figures[state]
            target: tuple[str, Text] = ("", Text(""))
            if kind == "step" and step_target is not None:
                ok = None if measured is None else measured.p99 <= step_target
                target = (f"p99 ≤ {step_target * 1000:g}", _met(ok))
            table.add_row(
                f"{kind}→{state.value}",
                *(_ms(measured, p) for p in PERCENTILES),
                f"{measured.count:,}" if measured else "0",
                target[0],
                target[1],
            )
    return table


def _phase_rows(phase: PhaseResult, rate_target: float | None) -> list[tuple[str, str, str, Text]]:
    paths = phase.paths
    achieved = paths.transitions_per_s
    rate_row = ("", Text(""))
    if rate_target is not None:
        rate_row = (
            f"≥ {rate_target:,.0f}/s",
            _met(None if achieved is None else achieved >= rate_target),
        )
    return [
        ("creates offered", f"{paths.offered:,}", "", Text("")),
        ("achieved offered rate (creates/s)", _number(phase.offered.rate), "", Text("")),
        (
            "completed transfers",
            f"{paths.completed:,}",
            f"all {paths.offered:,}",
            _met(paths.completed == paths.offered),
        ),
        ("rejected transfers", f"{phase.rejected:,}", "0", _met(phase.rejected == 0)),
        ("committed transitions/s achieved", _number(achieved), *rate_row),
    ]


def phase_tables(
    title: str, phase: PhaseResult, rate_target: float | None, step_target: float | None
) -> list[Table]:
    summary = _table(title, ("figure", "measured", "target", "met"))
    for row in _phase_rows(phase, rate_target):
        summary.add_row(*row)
    if phase.read_model_lag_p99_s is not None:
        summary.add_row(
            "read-model lag p99, commit → visible (s, bucket edge)",
            _number(phase.read_model_lag_p99_s, 3),
            "",
            Text(""),
        )
    return [summary, latency_table(f"{title}: latency per state", phase.paths, step_target)]


def warm_up_table(result: BenchResult) -> Table:
    """Whether the phases after it ran on a warm broker: its JIT compilers were quiet."""
    warm_up = result.warm_up
    table = _table("Warm-up (not measured)", ("figure", "measured", "target", "met"))
    seconds, compilers = WARM_UP_LABELS
    table.add_row(seconds, _number(warm_up.seconds), "", Text(""))
    table.add_row(
        compilers,
        _number(warm_up.compiler_share, 2),
        f"≤ {QUIET_SHARE:g}",
        _met(warm_up.quiet),
    )
    return table


def fixed_rate_tables(result: BenchResult) -> list[Table]:
    tables: list[Table] = []
    for rate, phase in zip(result.options.rates, result.fixed_rates, strict=True):
        transitions = rate * TRANSITIONS_PER_TRANSFER
        title = (
            f"Fixed rate: {rate:g} emergency creates/s (= {transitions:g} committed "
            f"transitions/s) for {result.options.duration_s:g} s"
        )
        tables += phase_tables(title, phase, None, _step_target(transitions))
    return tables


def saturation_tables(result: BenchResult) -> list[Table]:
    saturation = result.saturation
    title = f"Saturation: {saturation.paths.offered:,} emergency creates flat out"
    return [
        *phase_tables(title, saturation, TARGET_TRANSITIONS_PER_S, None),
        cpu_table(
            f"{title}: CPU per committed transition",
            saturation.cpu_s,
            saturation.paths.committed_transitions,
        ),
    ]


def cpu_table(title: str, cpu_s: dict[str, float], transitions: int) -> Table:
    """CPU per committed transition, by process: a figure a busy machine cannot inflate
    the way it inflates latency."""
    table = _table(title, ("process", "CPU s", "CPU ms per transition"))
    per = max(transitions, 1)
    for name, seconds in sorted(cpu_s.items(), key=lambda item: -item[1]):
        table.add_row(name, _number(seconds, 2), _number(seconds * 1000 / per, 3))
    total = sum(cpu_s.values())
    table.add_row("all processes", _number(total, 2), _number(total * 1000 / per, 3))
    if total > 0:
        # What these processes could commit if they had the machine's cores to themselves.
        ceiling = os.cpu_count() or 1
        table.add_row(
            f"ceiling on {ceiling} cores (transitions/s)", "", _number(ceiling * per / total, 0)
        )
    return table


def baseline_tables(result: BenchResult) -> list[Table]:
    run = result.baseline
    baseline = run.paths
    pipeline_rate = result.saturation.transitions_per_s
    baseline_rate = baseline.transitions_per_s
    ratio = (
        pipeline_rate / baseline_rate
        if pipeline_rate is not None and baseline_rate is not None
        else None
    )
    summary = _table(
        "Baseline: the saturation's transfers through raw Kafka relays (same run, same hops, "
        "same message sizes and partitions; no validation, contract or ledger)",
        ("figure", "measured"),
    )
    summary.add_row(
        "baseline completed transfers", f"{baseline.completed:,} of {baseline.offered:,}"
    )
    summary.add_row("baseline committed transitions/s", _number(baseline_rate))
    summary.add_row("pipeline ÷ baseline (transitions/s)", _number(ratio, 3))
    return [
        summary,
        latency_table("Baseline: latency per state", baseline, None),
        cpu_table(
            "Baseline: CPU per committed transition",
            run.cpu_s,
            baseline.committed_transitions,
        ),
    ]


def rss_table(result: BenchResult) -> Table:
    table = _table(
        "Peak RSS of every process of the stack (process + children)",
        ("service", "peak MiB", "pid", "target", "met"),
    )
    for name, pid in sorted(result.pids.items()):
        peak = result.peak_rss.get(name)
        mib = None if peak is None else peak / MIB
        target: tuple[str, Text] = ("", Text(""))
        if name in PYTHON_SERVICES:
            ok = None if mib is None else mib <= TARGET_PYTHON_RSS_MIB
            target = (f"≤ {TARGET_PYTHON_RSS_MIB:g}", _met(ok))
        table.add_row(name, _number(mib), str(pid), *target)
    total = sum(result.peak_rss.values()) / MIB
    table.add_row("all (sum of peaks)", _number(total), "", "", Text(""))
    return table


def targets_table(result: BenchResult) -> Table:
    table = _table("Targets", ("target", "measured", "goal", "met"))
    achieved = result.saturation.transitions_per_s
    table.add_row(
        "committed transitions/s at saturation",
        _number(achieved),
        f"≥ {TARGET_TRANSITIONS_PER_S:,.0f}",
        _met(None if achieved is None else achieved >= TARGET_TRANSITIONS_PER_S),
    )
    for rate, phase in zip(result.options.rates, result.fixed_rates, strict=True):
        transitions = rate * TRANSITIONS_PER_TRANSFER
        target = _step_target(transitions)
        if target is None:
            continue
        worst = phase.paths.worst_step_p99()
        table.add_row(
            f"worst transition p99 at {transitions:g} transitions/s (ms)",
            _number(None if worst is None else worst * 1000),
            f"≤ {target * 1000:g}",
            _met(None if worst is None else worst <= target),
        )
        table.add_row(
            f"transfers completed at {transitions:g} transitions/s",
            f"{phase.paths.completed:,}",
            f"{phase.paths.offered:,}",
            _met(phase.paths.completed == phase.paths.offered),
        )
        if transitions == TARGET_READ_LAG_AT_TRANSITIONS_PER_S:
            lag = phase.read_model_lag_p99_s
            table.add_row(
                f"read-model lag p99 at {transitions:g} transitions/s (s)",
                _number(lag, 3),
                f"≤ {TARGET_READ_LAG_S:g}",
                _met(None if lag is None else lag <= TARGET_READ_LAG_S),
            )
    for name in PYTHON_SERVICES:
        if name in result.peak_rss:
            mib = result.peak_rss[name] / MIB
            table.add_row(
                f"{name} peak RSS (MiB)",
                _number(mib),
                f"≤ {TARGET_PYTHON_RSS_MIB:g}",
                _met(mib <= TARGET_PYTHON_RSS_MIB),
            )
    return table


TABLES: tuple[Callable[[BenchResult], list[Table]], ...] = (
    lambda result: [warm_up_table(result)],
    fixed_rate_tables,
    saturation_tables,
    baseline_tables,
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
