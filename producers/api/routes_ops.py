"""The ops API: what operations watch, from Prometheus and the Applications Database.

Answers even when Prometheus is down: the database's figures, ``prometheus_available``
false, and empty lists where only Prometheus knows (never a 500).
"""

import asyncio
import math
import time
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from producers.api.context import PrincipalDep, ServicesDep
from producers.api.models import Problem
from producers.api.monitoring import MonitoringUnavailable, Prometheus
from producers.errors import WrongRole
from schemas import Role

router = APIRouter(prefix="/v1/ops", tags=["ops"])
ERRORS: dict[int | str, dict[str, object]] = {code: {"model": Problem} for code in (401, 403)}
SERIES_WINDOW_S = 15 * 60
SERIES_STEP_S = 15.0
RECENT_DEAD_LETTERS_S = 60 * 60
STUCK_SHOWN = 50
THROUGHPUT = "curex:messages_produced:rate1m"
LAG = "curex:consumer_lag:sum"
DEAD_LETTERS_TOTAL = "sum(curex_dead_letters_total)"
DEAD_LETTERS_PER_MINUTE = "sum by (source_topic, reason) (increase(curex_dead_letters_total[1m]))"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class TopicRate(Frozen):
    topic: str
    messages_per_s: float


class TopicSeries(Frozen):
    topic: str
    points: list[tuple[float, float]]


class GroupLag(Frozen):
    group: str
    topic: str
    lag: int


class DeadLetterEvent(Frozen):
    at: datetime
    source_topic: str
    reason: str


class DeadLetters(Frozen):
    total: int
    recent: list[DeadLetterEvent]


class StuckTransferOut(Frozen):
    transfer_id: str
    state: str
    since: datetime


class ServiceHealth(Frozen):
    name: str
    healthy: bool


class Alert(Frozen):
    name: str
    severity: str
    state: Literal["firing", "pending"]
    since: datetime
    summary: str


class OpsOverview(Frozen):
    generated_at: datetime
    topics: list[TopicRate]
    throughput_series: list[TopicSeries]
    consumer_groups: list[GroupLag]
    dead_letters: DeadLetters
    transfers_per_state: dict[str, int]
    stuck_transfers: list[StuckTransferOut]
    services: list[ServiceHealth]
    alerts: list[Alert]
    # False when Prometheus could not be asked: the lists only it fills are then empty.
    prometheus_available: bool


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def _at(unix_s: float) -> datetime:
    return datetime.fromtimestamp(unix_s, UTC)


async def _from_prometheus(prometheus: Prometheus, now: float) -> dict[str, object]:
    rates, lags, total, up = await asyncio.gather(
        prometheus.instant(THROUGHPUT),
        prometheus.instant(LAG),
        prometheus.instant(DEAD_LETTERS_TOTAL),
        prometheus.instant("up"),
    )
    series, per_minute, alerts = await asyncio.gather(
        prometheus.range(THROUGHPUT, now - SERIES_WINDOW_S, now, SERIES_STEP_S),
        prometheus.range(DEAD_LETTERS_PER_MINUTE, now - RECENT_DEAD_LETTERS_S, now, 60.0),
        prometheus.alerts(),
    )
    recent = sorted(
        (
            DeadLetterEvent(
                at=_at(t),
                source_topic=s.labels.get("source_topic", ""),
                reason=s.labels.get("reason", ""),
            )
            for s in per_minute
            for t, v in s.points
            if v > 0
        ),
        key=lambda event: event.at,
        reverse=True,
    )
    return {
        "topics": [
            TopicRate(topic=s.labels.get("topic", ""), messages_per_s=_finite(s.value))
            for s in rates
        ],
        "throughput_series": [
            TopicSeries(
                topic=s.labels.get("topic", ""), points=[(t, _finite(v)) for t, v in s.points]
            )
            for s in series
        ],
        "consumer_groups": [
            GroupLag(
                group=s.labels.get("group", ""),
                topic=s.labels.get("topic", ""),
                lag=int(_finite(s.value)),
            )
            for s in lags
        ],
        "dead_letters": DeadLetters(
            total=int(_finite(total[0].value)) if total else 0, recent=recent[:50]
        ),
        "services": [
            ServiceHealth(
                name=s.labels.get("service", s.labels.get("job", "")), healthy=s.value == 1
            )
            for s in up
        ],
        "alerts": [
            Alert(
                name=a["labels"].get("alertname", ""),
                severity=a["labels"].get("severity", ""),
                state=a["state"],
                since=a["activeAt"],
                summary=a.get("annotations", {}).get("summary", ""),
            )
            for a in alerts
            if a.get("state") in ("firing", "pending")
        ],
    }


@router.get("/overview", responses=ERRORS)
async def overview(principal: PrincipalDep, ctx: ServicesDep) -> OpsOverview:
    if principal.role is not Role.OPS:
        raise WrongRole("the ops API is for role ops")
    now = time.time()
    per_state = await ctx.database.transfers_per_state()
    stuck = await ctx.database.stuck_transfers(STUCK_SHOWN)
    try:
        monitored = await _from_prometheus(ctx.prometheus, now)
        available = True
    except MonitoringUnavailable:
        monitored = {
            "topics": [],
            "throughput_series": [],
            "consumer_groups": [],
            "dead_letters": DeadLetters(total=0, recent=[]),
            "services": [ServiceHealth(name="applications-server", healthy=True)],
            "alerts": [],
        }
        available = False
    return OpsOverview(
        generated_at=_at(now),
        transfers_per_state=per_state,
        stuck_transfers=[
            StuckTransferOut(transfer_id=s.transfer_id, state=s.state, since=s.since) for s in stuck
        ],
        prometheus_available=available,
        **monitored,
    )
