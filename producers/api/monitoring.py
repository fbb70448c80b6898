"""Reading Prometheus's HTTP API (instant and range queries, alerts) for the ops API."""

from dataclasses import dataclass
from typing import Any

import httpx


class MonitoringUnavailable(Exception):
    """Prometheus could not be asked, or answered with an error."""


@dataclass(frozen=True, slots=True)
class Sample:
    labels: dict[str, str]
    value: float


@dataclass(frozen=True, slots=True)
class Series:
    labels: dict[str, str]
    points: list[tuple[float, float]]


class Prometheus:
    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = await self._http.get(f"{self._base_url}{path}", params=params)
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise MonitoringUnavailable(f"Prometheus did not answer: {error!r}") from error
        if response.status_code != 200 or body.get("status") != "success":
            raise MonitoringUnavailable(f"Prometheus answered {response.status_code}")
        return body["data"]

    async def instant(self, query: str) -> list[Sample]:
        data = await self._get("/api/v1/query", {"query": query})
        return [Sample(dict(item["metric"]), float(item["value"][1])) for item in data["result"]]

    async def range(self, query: str, start: float, end: float, step_s: float) -> list[Series]:
        data = await self._get(
            "/api/v1/query_range",
            {"query": query, "start": str(start), "end": str(end), "step": str(step_s)},
        )
        return [
            Series(dict(item["metric"]), [(float(t), float(v)) for t, v in item["values"]])
            for item in data["result"]
        ]

    async def alerts(self) -> list[dict[str, Any]]:
        data = await self._get("/api/v1/alerts")
        alerts: list[dict[str, Any]] = data["alerts"]
        return alerts
