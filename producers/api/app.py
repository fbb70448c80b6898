"""The Applications Server: the REST API HPA and PA clients use (FastAPI)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pymongo import AsyncMongoClient

from notifier.hub import NotificationHub, follow_blocks
from producers.api import routes_me, routes_notifications, routes_transfers
from producers.api.accounts import Accounts
from producers.api.context import Services
from producers.api.errors import install_error_handlers
from producers.api.ledger_client import BlockchainApi
from producers.api.settings import ApiSettings
from producers.auth.tokens import TokenValidator
from producers.kafka import durable_producer
from producers.publisher import CommandPublisher
from producers.read_model import ApplicationsDatabase


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        producer = durable_producer(settings.kafka_bootstrap)
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.docdb_url, tz_aware=True
        )
        ledger_http = httpx.AsyncClient(timeout=settings.ledger_timeout_s)
        await producer.start()
        database = ApplicationsDatabase(mongo, settings.docdb_database)
        await database.ensure_indexes()
        notifications = NotificationHub()
        follower = asyncio.create_task(follow_blocks(notifications, settings.kafka_bootstrap))
        try:
            app.state.services = Services(
                settings=settings,
                tokens=TokenValidator(settings.users_issuer),
                publisher=CommandPublisher(producer),
                database=database,
                accounts=Accounts(settings),
                ledger=BlockchainApi.from_settings(ledger_http, settings),
                notifications=notifications,
            )
            yield
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
            await producer.stop()
            await mongo.close()
            await ledger_http.aclose()

    app = FastAPI(
        title="CUREX Applications Server",
        version="1",
        description="Cross-border health data transfers: request, consent, follow, audit.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(routes_transfers.router)
    app.include_router(routes_me.router)
    app.include_router(routes_notifications.router)

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
