"""The figures of `curex bench api` as rich tables."""

from rich.console import Console
from rich.table import Table

from curex.bench.api import ApiBenchResult
from curex.bench.load import LoadResult

CREATE = "POST /v1/transfers"
READ = "GET /v1/transfers/{id}"
LIST = "GET /v1/transfers"
PUBLISH = "Kafka publish, same concurrency"
PUBLISH_FLAT_OUT = "Kafka publish, flat out"
RATIO_SAME = "API creates/s ÷ raw publishes/s, same concurrency"
RATIO_FLAT_OUT = "API creates/s ÷ raw publishes/s, flat out"
OVERHEAD = "API create p50 minus raw publish p50 (ms)"

PHASE_LABELS = (CREATE, READ, LIST, PUBLISH, PUBLISH_FLAT_OUT)
COMPARISON_LABELS = (RATIO_SAME, RATIO_FLAT_OUT, OVERHEAD)
COLUMNS = ("requests", "failed", "elapsed (s)", "requests/s", "p50 (ms)", "p99 (ms)")


def _number(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _ms(result: LoadResult, percentile: str) -> str:
    measured = result.latency
    return _number(None if measured is None else getattr(measured, percentile) * 1000, 2)


def _row(label: str, result: LoadResult) -> tuple[str, ...]:
    return (
        label,
        f"{result.sent:,}",
        f"{result.failed:,}",
        _number(result.elapsed_s, 2),
        _number(result.per_s),
        _ms(result, "p50"),
        _ms(result, "p99"),
    )


def _phase_table(title: str, rows: list[tuple[str, ...]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("operation")
    for column in COLUMNS:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(*row)
    return table


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _overhead_ms(result: ApiBenchResult) -> float | None:
    api, raw = result.create.latency, result.publish.latency
    return None if api is None or raw is None else (api.p50 - raw.p50) * 1000


def rest_table(result: ApiBenchResult) -> Table:
    table = _phase_table(
        f"REST API as doctor.ki, {result.options.concurrency} requests in flight",
        [
            _row(CREATE, result.create),
            _row(READ, result.read),
            _row(LIST, result.listing),
        ],
    )
    kind = "emergency" if result.options.emergency else "normal"
    table.caption = (
        f"creates are {kind} requests answered 202 once Kafka acknowledged the command; "
        f"reads cycle over the created transfers; a list answer held {result.listed:,} "
        "transfer summaries; a phase sends no new request after "
        f"{result.options.max_duration_s:g} s"
    )
    return table


def publish_table(result: ApiBenchResult) -> Table:
    table = _phase_table(
        f"Raw Kafka publish: aiokafka durable producer (acks=all, idempotent), "
        f"{result.message_bytes:,} B CreateTransfer messages",
        [
            _row(PUBLISH, result.publish),
            _row(PUBLISH_FLAT_OUT, result.publish_flat_out),
        ],
    )
    table.caption = (
        f"same concurrency: {result.options.concurrency} sends, each awaiting its "
        "acknowledgement as the API does; flat out: all queued at once; "
        "latency: from send to the broker's acknowledgement"
    )
    return table


def comparison_table(result: ApiBenchResult) -> Table:
    api_rate = result.create.per_s
    table = Table(title="API against the raw broker, same run", title_justify="left")
    table.add_column("figure")
    table.add_column("measured", justify="right")
    table.add_row(RATIO_SAME, _number(_ratio(api_rate, result.publish.per_s), 3))
    table.add_row(RATIO_FLAT_OUT, _number(_ratio(api_rate, result.publish_flat_out.per_s), 3))
    table.add_row(OVERHEAD, _number(_overhead_ms(result), 2))
    return table


def render(console: Console, result: ApiBenchResult) -> None:
    console.print(f"bench api run {result.run_id}")
    for table in (
        rest_table(result),
        publish_table(result),
        comparison_table(result),
        read_side_table(result),
    ):
        console.print(table)


# The read side's targets (issue "the read side at hospital scale"), judged in this run.
LIST_P99_MS = 50.0
LIST_RATE = 500.0
READ_P99_MS = 20.0
BYTES_PER_TRANSFER = 2048.0
API_OVER_DIRECT = 2.0


def _p99_ms(result: LoadResult) -> float | None:
    return None if result.latency is None else result.latency.p99 * 1000


def _verdict(measured: float | None, target: float, at_most: bool) -> str:
    if measured is None:
        return "n/a"
    met = measured <= target if at_most else measured >= target
    return "met" if met else "NOT MET"


def read_side_table(result: ApiBenchResult) -> Table:
    stored = result.stored_transfers
    table = Table(
        title=f"Read side with {stored:,} transfers in the Applications Database",
        title_justify="left",
    )
    for column in ("figure", "measured", "target", "baseline (driver, same run)", "verdict"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    list_p99, direct_list_p99 = _p99_ms(result.listing), _p99_ms(result.direct_list)
    read_p99, direct_read_p99 = _p99_ms(result.read), _p99_ms(result.direct_read)
    ratio = _ratio(list_p99, direct_list_p99)
    rows = (
        ("GET /v1/transfers p99 (ms)", list_p99, LIST_P99_MS, direct_list_p99, True),
        (
            "GET /v1/transfers requests/s",
            result.listing.per_s,
            LIST_RATE,
            result.direct_list.per_s,
            False,
        ),
        ("GET /v1/transfers/{id} p99 (ms)", read_p99, READ_P99_MS, direct_read_p99, True),
        (
            "bytes stored per transfer, with history",
            result.bytes_per_transfer,
            BYTES_PER_TRANSFER,
            None,
            True,
        ),
        ("API list p99 ÷ direct list p99", ratio, API_OVER_DIRECT, None, True),
    )
    for label, measured, target, baseline, at_most in rows:
        table.add_row(
            label,
            _number(measured, 2),
            f"{'≤' if at_most else '≥'} {target:,g}",
            "" if baseline is None else _number(baseline, 2),
            _verdict(measured, target, at_most),
        )
    seeded = result.seeded
    table.caption = (
        f"{result.options.concurrency} requests in flight; lists of 20 items as doctor.ki; "
        + (
            f"{seeded.transfers:,} transfers ({seeded.history_rows:,} history rows) seeded "
            f"with COPY in {seeded.seconds:.1f} s before measuring"
            if seeded
            else "nothing seeded (--transfers 0)"
        )
    )
    return table
