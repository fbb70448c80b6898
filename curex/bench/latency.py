"""Percentiles of a set of latencies (nearest rank)."""

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Percentiles:
    """Seconds."""

    p50: float
    p95: float
    p99: float
    max: float
    count: int


def _nearest_rank(ordered: Sequence[float], percent: float) -> float:
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def percentiles(samples: Sequence[float]) -> Percentiles | None:
    if not samples:
        return None
    ordered = sorted(samples)
    return Percentiles(
        p50=_nearest_rank(ordered, 50),
        p95=_nearest_rank(ordered, 95),
        p99=_nearest_rank(ordered, 99),
        max=ordered[-1],
        count=len(ordered),
    )
