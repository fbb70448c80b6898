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
        "transfers with their history; a phase sends no new request after "
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
    for table in (rest_table(result), publish_table(result), comparison_table(result)):
        console.print(table)
