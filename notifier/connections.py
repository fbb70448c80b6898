"""Open sockets, each with a bounded send queue, and the hub that fans changes out to them.

Fan-out never waits on a socket: it puts the frame on the connection's queue, and a
connection whose queue is full is closed with 1013, so a client that stops reading never
delays anyone else. Each connection's own task drains its queue to the socket.
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterable

from fastapi import WebSocket

from notifier.frames import FrameCache
from notifier.inbox import InboxEntry
from notifier.metrics import CONNECTIONS, FRAMES_SENT
from schemas import Language

TRY_AGAIN_LATER = 1013
# The seqs last sent live on a connection: a resume does not send them again. What a
# resume sent, a later resume sends again (the client asked for it).
_REMEMBERED = 4096


class SlowClient(Exception):
    """The client did not keep up: its queue is full or a send took too long."""


class Connection:
    def __init__(
        self,
        socket: WebSocket,
        inbox: str | None,
        language: Language,
        queue_size: int,
        send_timeout_s: float,
    ) -> None:
        self.socket = socket
        self.inbox = inbox
        self.language = language
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_size)
        self._send_timeout_s = send_timeout_s
        self._sent: set[int] = set()
        self._sent_order: deque[int] = deque()
        # Live changes at or below it came by replay.
        self.floor = 0
        # While held (just connected, or replaying), live changes wait here, so a resume
        # sent right after auth gets the replay first and then the rest, in order.
        self._held: list[tuple[int, FrameCache]] | None = []
        self.overflowed = asyncio.Event()
        self.resumed = False
        self.sending_since: float | None = None
        # The hub's set of connections in the middle of a send, which its sweep watches.
        self.sending: set[Connection] = set()

    def offer(self, seq: int, frames: FrameCache) -> None:
        """A live change: queued unless a replay covers it or it was sent already."""
        if seq <= self.floor or seq in self._sent:
            return
        if self._held is not None:
            self._held.append((seq, frames))
            if len(self._held) > self._queue.maxsize:
                self.overflowed.set()
            return
        self._queue_now(frames.text(self.language), seq)

    def hold(self) -> None:
        if self._held is None:
            self._held = []

    def release(self) -> None:
        """Go live: the held changes a replay did not cover first, in order."""
        held, self._held = self._held, None
        for seq, frames in held or ():
            if seq > self.floor and seq not in self._sent:
                self._queue_now(frames.text(self.language), seq)

    def control(self, text: str) -> None:
        self._queue_now(text, None)

    async def replayed(self, seq: int, frames: FrameCache) -> None:
        """A change a resume replays: waits for room, up to the send timeout; a change
        already sent live on this connection is not sent again."""
        if seq in self._sent:
            return
        try:
            await asyncio.wait_for(
                self._queue.put(frames.text(self.language)), self._send_timeout_s
            )
        except TimeoutError:
            self.overflowed.set()
            raise SlowClient("the client stopped reading during a replay") from None

    def _queue_now(self, text: str, seq: int | None) -> None:
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            self.overflowed.set()
            return
        if seq is not None:
            self._remember(seq)

    def _remember(self, seq: int) -> None:
        self._sent.add(seq)
        self._sent_order.append(seq)
        if len(self._sent_order) > _REMEMBERED:
            self._sent.discard(self._sent_order.popleft())

    async def pump(self) -> None:
        """Sends queued frames in order; returns when the client stopped keeping up (its
        queue overflowed, or the hub's sweep found one send taking too long)."""
        sender = asyncio.create_task(self._send_forever())
        overflow = asyncio.create_task(self.overflowed.wait())
        try:
            await asyncio.wait({sender, overflow}, return_when=asyncio.FIRST_COMPLETED)
            if sender.done():
                sender.result()  # a gone client
        finally:
            for task in (sender, overflow):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _send_forever(self) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queue
        while True:
            text = await queue.get()
            # Watched by the hub's sweep rather than a timer per frame: a task per send
            # would cost more than the send.
            self.sending_since = loop.time()
            self.sending.add(self)
            await self.socket.send_text(text)
            self.sending.discard(self)
            self.sending_since = None
            FRAMES_SENT.inc()

    def stuck(self, now: float) -> bool:
        since = self.sending_since
        return since is not None and now - since > self._send_timeout_s


class Hub:
    """The open connections of this instance, by the inbox they read."""

    def __init__(self) -> None:
        self._by_inbox: dict[str, set[Connection]] = {}
        self._sending: set[Connection] = set()
        self.head = 0  # the highest inbox seq fanned out

    def add(self, connection: Connection) -> None:
        CONNECTIONS.inc()
        connection.sending = self._sending
        if connection.inbox is not None:
            self._by_inbox.setdefault(connection.inbox, set()).add(connection)

    def remove(self, connection: Connection) -> None:
        CONNECTIONS.dec()
        self._sending.discard(connection)
        if connection.inbox is None:
            return
        readers = self._by_inbox.get(connection.inbox)
        if readers is not None:
            readers.discard(connection)
            if not readers:
                del self._by_inbox[connection.inbox]

    async def sweep(self, every_s: float = 1.0) -> None:
        """Marks each connection whose current send has outlasted its timeout."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(every_s)  # a periodic check, not a wait for an event
            now = loop.time()
            # Only the connections in the middle of a send: with ten thousand idle
            # sockets, walking them all each second was a few percent of the CPU.
            for connection in list(self._sending):
                if connection.stuck(now):
                    connection.overflowed.set()

    def publish(self, entries: Iterable[InboxEntry]) -> None:
        """Queues each change for every reader of its inbox, in ``seq`` order; never waits."""
        for entry in entries:
            readers = self._by_inbox.get(entry.recipient)
            if readers:
                frames = FrameCache(entry)
                for connection in tuple(readers):
                    connection.offer(entry.seq, frames)
            self.head = entry.seq
