"""The Applications Server: the REST API HPA and PA clients use (FastAPI)."""

import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from producers.api import routes_me, routes_ops, routes_reviews, routes_transfers, routes_web
from producers.api.accounts import Accounts
from producers.api.body_limit import BodyLimit
from producers.api.context import Services
from producers.api.frontends import add_frontends
from producers.api.ledger_client import BlockchainApi
from producers.api.monitoring import Prometheus
from producers.api.problems import install_error_handlers
from producers.api.rate_limits import CreateLimits
from producers.api.settings import ApiSettings
from producers.publisher import CommandPublisher
from read_model.idempotency import IdempotencyKeys
from read_model.notes import NoteSeal, TransferNotes
from read_model.queries import ApplicationsDatabase
from read_model.reviews import Reviews
from service_runtime.kafka_producer import durable_producer
from service_runtime.service_http import add_health_and_metrics
from service_runtime.tokens import TokenValidator


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as resources:
            pool = AsyncConnectionPool(
                settings.database_url,
                min_size=2,
                max_size=settings.database_pool_size,
                open=False,
                # Reads need no transaction: no BEGIN and COMMIT round trips around each.
                kwargs={"autocommit": True},
            )
            await pool.open(wait=True, timeout=60)
            resources.push_async_callback(pool.close)
            producer = durable_producer(settings.kafka)
            await producer.start()
            resources.push_async_callback(producer.stop)
            ledger_http = httpx.AsyncClient(timeout=settings.ledger_timeout_s)
            resources.push_async_callback(ledger_http.aclose)
            database = ApplicationsDatabase(pool)
            monitoring_http = httpx.AsyncClient(timeout=settings.prometheus_timeout_s)
            resources.push_async_callback(monitoring_http.aclose)
            tokens = TokenValidator(settings.users_issuer)
            app.state.services = Services(
                settings=settings,
                tokens=tokens,
                publisher=CommandPublisher(producer),
                database=database,
                idempotency=IdempotencyKeys(pool),
                notes=TransferNotes(pool, NoteSeal(settings.pseudonym_key.encode())),
                reviews=Reviews(pool),
                accounts=Accounts(settings),
                ledger=BlockchainApi.from_settings(ledger_http, settings),
                create_limits=CreateLimits(
                    settings.creates_per_user,
                    settings.creates_per_org,
                    settings.emergencies_per_user,
                ),
                prometheus=Prometheus(monitoring_http, settings.prometheus_url),
            )
            # Start-up objects live as long as the process: keep them out of every
            # collection, so a full collection never stalls a request.
            gc.freeze()
            yield

    app = FastAPI(
        title="CUREX Applications Server",
        version="1",
        description="Cross-border health data transfers: request, consent, follow, audit.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    app.include_router(routes_transfers.router)
    app.include_router(routes_me.router)
    app.include_router(routes_reviews.router)
    app.include_router(routes_ops.router)
    app.include_router(routes_web.router)

    add_health_and_metrics(app, lambda: True)
    add_frontends(app, settings.frontends_dir)
    return app
