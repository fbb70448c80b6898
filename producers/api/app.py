"""The Applications Server: the REST API HPA and PA clients use (FastAPI)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from pymongo import AsyncMongoClient

import notifier.websocket
from notifier.hub import NotificationHub, follow_blocks
from notifier.websocket import NotifierContext
from producers.api import routes_me, routes_transfers
from producers.api.accounts import Accounts
from producers.api.context import Services
from producers.api.ledger_client import BlockchainApi
from producers.api.problems import install_error_handlers
from producers.api.settings import ApiSettings
from producers.publisher import CommandPublisher
from read_model.queries import ApplicationsDatabase
from service_runtime.kafka_producer import durable_producer
from service_runtime.service_http import add_health_and_metrics
from service_runtime.tokens import TokenValidator


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
        tokens = TokenValidator(settings.users_issuer)
        try:
            app.state.services = Services(
                settings=settings,
                tokens=tokens,
                publisher=CommandPublisher(producer),
                database=database,
                accounts=Accounts(settings),
                ledger=BlockchainApi.from_settings(ledger_http, settings),
            )
            app.state.notifier = NotifierContext(
                hub=notifications,
                tokens=tokens,
                database=database,
                pseudonym_key=settings.pseudonym_key.encode(),
                replay_limit=settings.list_limit,
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
    app.include_router(notifier.websocket.router)

    add_health_and_metrics(app, lambda: True)
    return app
