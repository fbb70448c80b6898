"""Each instance's feed: new inbox rows, in ``seq`` order, fanned out to its sockets.

Woken by the writers' ``NOTIFY`` as soon as a batch commits, and looking anyway every
``poll_interval_s`` in case a wake-up was lost with a connection. Rows come from the
database, not from Kafka, so every instance pushes the same changes in the same order
as a resume replays them. The rows this instance's own writer just committed are pushed
at once, without reading them back, when nothing committed between them and the last
row pushed (the writers' lock makes that knowable): the next row in order is the next.
"""

import asyncio
import contextlib
import time

import psycopg
import structlog

from notifier.connections import Hub
from notifier.inbox import CHANNEL, InboxEntry, InboxStore, Written
from notifier.metrics import DELIVERY_LAG, FEED_HEAD

log = structlog.get_logger()
_PAGE = 5000


class InboxFeed:
    def __init__(
        self, database_url: str, store: InboxStore, hub: Hub, poll_interval_s: float
    ) -> None:
        self._database_url = database_url
        self._store = store
        self._hub = hub
        self._poll_interval_s = poll_interval_s
        self.ready = asyncio.Event()
        self._wake = asyncio.Event()

    async def run(self) -> None:
        # Only what is written from now on is pushed; what came before is for resume.
        self._hub.head = await self._store.head()
        self.ready.set()
        delay = 0.1
        while True:
            try:
                await self._listen()
            except (psycopg.OperationalError, psycopg.errors.AdminShutdown) as error:
                log.warning("inbox feed lost the database; reconnecting", error=str(error))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(
            self._database_url, autocommit=True
        ) as listener:
            await listener.execute(f"LISTEN {CHANNEL}")
            watcher = asyncio.create_task(self._watch(listener))
            try:
                while True:
                    self._wake.clear()
                    await self._push_new()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
                    if watcher.done():
                        watcher.result()  # the listener's connection failed
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError, psycopg.Error):
                    await watcher

    async def _watch(self, listener: psycopg.AsyncConnection[object]) -> None:
        # This instance's own writer hands over what it wrote (``written``).
        async for notice in listener.notifies():
            if notice.payload != self._store.writer:
                self._wake.set()

    def written(self, written: Written) -> None:
        """This instance's writer committed ``written``: pushed at once if nothing committed
        between it and the last row pushed, else read back in order."""
        if written.after == self._hub.head:
            self._publish(written.entries)
        elif written.entries:
            self._wake.set()

    async def _push_new(self) -> None:
        while True:
            entries = await self._store.since(self._hub.head, _PAGE)
            if not entries:
                return
            self._publish(entries)
            if len(entries) < _PAGE:
                return

    def _publish(self, entries: list[InboxEntry]) -> None:
        # A read that began before a direct push may return rows it already pushed.
        fresh = [entry for entry in entries if entry.seq > self._hub.head]
        now = time.time()
        for entry in fresh:
            DELIVERY_LAG.observe(max(0.0, now - entry.at.timestamp()))
        self._hub.publish(fresh)
        FEED_HEAD.set(self._hub.head)
