"""Each instance's feed: new inbox rows, in ``seq`` order, fanned out to its sockets.

Woken by the writers' ``NOTIFY`` as soon as a batch commits, and looking anyway every
``poll_interval_s`` in case a wake-up was lost with a connection. Rows come from the
database, not from Kafka, so every instance pushes the same changes in the same order
as a resume replays them.
"""

import asyncio
import time

import psycopg
import structlog

from notifier.connections import Hub
from notifier.inbox import CHANNEL, InboxStore
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
            while True:
                await self._push_new()
                async for _ in listener.notifies(timeout=self._poll_interval_s, stop_after=1):
                    pass

    async def _push_new(self) -> None:
        while True:
            entries = await self._store.since(self._hub.head, _PAGE)
            if not entries:
                return
            now = time.time()
            for entry in entries:
                DELIVERY_LAG.observe(max(0.0, now - entry.at.timestamp()))
            self._hub.publish(entries)
            FEED_HEAD.set(self._hub.head)
            if len(entries) < _PAGE:
                return
