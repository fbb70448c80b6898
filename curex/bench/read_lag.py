"""The read model's lag, ledger commit → visible in the Applications Database, as the
projector's own histogram counts it: the p99 of a phase from the bucket counts before
and after it (an upper bound at the bucket's edge)."""

import math

import httpx
from prometheus_client.parser import text_string_to_metric_families

from curex.bench.errors import BenchError

LAG_METRIC = "curex_read_model_lag_seconds"

Buckets = dict[float, float]  # upper edge (s) → cumulative count


async def lag_buckets(port: int) -> Buckets:
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(f"http://127.0.0.1:{port}/metrics")
            response.raise_for_status()
    except httpx.HTTPError as exc:
        raise BenchError(f"the read model's metrics could not be read: {exc!r}") from exc
    buckets: Buckets = {}
    for family in text_string_to_metric_families(response.text):
        if family.name != LAG_METRIC:
            continue
        for sample in family.samples:
            if sample.name == f"{LAG_METRIC}_bucket":
                buckets[float(sample.labels["le"])] = sample.value
    return buckets


def p99_bound(before: Buckets, after: Buckets) -> float | None:
    """The smallest bucket edge under which 99 % of the phase's lags fell; None if none."""
    deltas = {edge: after.get(edge, 0.0) - before.get(edge, 0.0) for edge in after}
    total = deltas.get(math.inf, 0.0)
    if total <= 0:
        return None
    return min(edge for edge, count in deltas.items() if count >= 0.99 * total)
