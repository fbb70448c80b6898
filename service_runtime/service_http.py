"""The HTTP surface every project service shares: /health, /metrics and its own routers."""

from collections.abc import Callable

import uvicorn
from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_fastapi_instrumentator import Instrumentator

from service_runtime.gc_pauses import watch_gc_pauses


def add_health_and_metrics(app: FastAPI, is_ready: Callable[[], bool]) -> None:
    """``/health`` answers 503 until ``is_ready``; ``/metrics`` is Prometheus' text format,
    with every route's request count, latency and sizes (prometheus-fastapi-instrumentator)."""
    Instrumentator(
        excluded_handlers=["/metrics", "/health"], should_group_status_codes=False
    ).instrument(app)
    watch_gc_pauses()

    @app.get("/health", include_in_schema=False)
    def health(response: Response) -> dict[str, str]:
        ready = is_ready()
        response.status_code = 200 if ready else 503
        return {"status": "ok" if ready else "starting"}

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def service_app(title: str, is_ready: Callable[[], bool], *routers: APIRouter) -> FastAPI:
    """A service's whole HTTP app: its routers, health and metrics."""
    app = FastAPI(title=title, version="1")
    for router in routers:
        app.include_router(router)
    add_health_and_metrics(app, is_ready)
    return app


def http_server(app: FastAPI, port: int, host: str = "127.0.0.1") -> uvicorn.Server:
    """The service's HTTP server, to run as one task of its event loop (``serve()``)."""
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))


def run_web_service(app: FastAPI, host: str, port: int) -> None:
    """Serve a process's one web app (REST and WebSocket) until it is stopped."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=False,
        # The C event loop and HTTP parser: about half the server's CPU per request.
        loop="uvloop",
        http="httptools",
        access_log=False,
        # A WebSocket frame over 16 KiB closes the socket (1009): no client frame needs more.
        ws_max_size=16 * 1024,
        server_header=False,
    )
