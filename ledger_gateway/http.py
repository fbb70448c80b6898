"""The gateway's HTTP surface: health and metrics (the Blockchain API joins it later)."""

from collections.abc import Callable

from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


def create_app(is_ready: Callable[[], bool], *routers: APIRouter) -> FastAPI:
    app = FastAPI(title="CUREX ledger gateway and Blockchain API", version="1")
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
