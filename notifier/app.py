"""The notifier's process: the inbox writer, the feed, retention and the WebSocket app."""

import asyncio
import contextlib
import gc
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from notifier import websocket
from notifier.connections import Hub
from notifier.feed import InboxFeed
from notifier.inbox import InboxStore
from notifier.settings import NotifierSettings
from notifier.websocket import NotifierContext
from notifier.writer import forget_old_rows, write_inboxes
from read_model.queries import ApplicationsDatabase
from service_runtime.gc_pauses import full_collections_on_schedule
from service_runtime.service_http import add_health_and_metrics
from service_runtime.tokens import TokenValidator

log = structlog.get_logger()


def create_app(settings: NotifierSettings) -> FastAPI:
    feed_ready: list[InboxFeed] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as resources:
            # Checked on checkout: after a database restart a socket's language lookup
            # must not get a dead connection.
            pool = await _opened_pool(resources, settings.database_url, 2, 10, checked=True)
            # The inbox writer's own: its connections are not checked on each checkout.
            writer_pool = await _opened_pool(resources, settings.database_url, 1, 2, checked=False)
            store = InboxStore(pool, writer_pool)
            hub = Hub()
            feed = InboxFeed(settings.database_url, store, hub, settings.notifier_poll_interval_s)
            feed_ready.append(feed)
            for work in (
                feed.run(),
                write_inboxes(settings, store, feed.written),
                forget_old_rows(settings, store),
                hub.sweep(),
                full_collections_on_schedule(settings.gc_full_every_s),
            ):
                task = asyncio.create_task(work)
                task.add_done_callback(_stop_if_failed)
                resources.push_async_callback(_cancelled, task)
            app.state.notifier = NotifierContext(
                hub=hub,
                store=store,
                tokens=TokenValidator(settings.users_issuer),
                database=ApplicationsDatabase(pool),
                pseudonym_key=settings.pseudonym_key.encode(),
                replay_limit=settings.notifier_replay_limit,
                send_queue=settings.notifier_send_queue,
                send_timeout_s=settings.notifier_send_timeout_s,
                close_timeout_s=settings.notifier_close_timeout_s,
            )
            await asyncio.wait_for(feed.ready.wait(), timeout=60)
            # Start-up objects live as long as the process: keep them out of collections.
            gc.freeze()
            yield

    app = FastAPI(title="CUREX notifier", version="1", lifespan=lifespan)
    app.include_router(websocket.router)
    add_health_and_metrics(app, lambda: bool(feed_ready) and feed_ready[0].ready.is_set())
    return app


async def _opened_pool(
    resources: contextlib.AsyncExitStack, url: str, min_size: int, max_size: int, checked: bool
) -> AsyncConnectionPool:
    """An autocommit pool, open, closed with ``resources``."""
    pool = AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        open=False,
        kwargs={"autocommit": True},
        check=AsyncConnectionPool.check_connection if checked else None,
        timeout=5,
    )
    await pool.open(wait=True, timeout=60)
    resources.push_async_callback(pool.close)
    return pool


def _stop_if_failed(task: asyncio.Task[None]) -> None:
    """A background loop that died leaves the instance useless: stop, the supervisor restarts."""
    if not task.cancelled() and task.exception() is not None:
        log.error("notifier task failed; stopping", error=repr(task.exception()))
        os.kill(os.getpid(), signal.SIGTERM)


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
