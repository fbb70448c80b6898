"""The HTTP surface every project service shares: /health, /metrics and its own routers."""

from collections.abc import Callable

from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


def service_app(title: str, is_ready: Callable[[], bool], *routers: APIRouter) -> FastAPI:
    """``/health`` answers 503 until ``is_ready``; ``/metrics`` is Prometheus' text format."""
    app = FastAPI(title=title, version="1")
    for router in routers:
        app.include_router(router)

    @app.get("/health")
    def health(response: Response) -> dict[str, str]:
        ready = is_ready()
        response.status_code = 200 if ready else 503
        return {"status": "ok" if ready else "starting"}

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
