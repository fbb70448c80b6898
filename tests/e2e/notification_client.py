"""A test's WebSocket client of the notifier: reads in the background, keeps every frame
with its arrival time, and can stop reading to play a client that fell behind."""

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

Frame = dict[str, Any]


class NotificationClient:
    def __init__(self, token: str) -> None:
        self.token = token
        self.frames: list[Frame] = []
        self.arrived: list[float] = []
        self.closed_with: int | None = None
        self._changed = asyncio.Event()
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None

    async def connect(
        self, url: str, *, resume_after: str | None = None, resume: bool = False
    ) -> None:
        self._socket = await websockets.connect(url)
        await self._socket.send(json.dumps({"type": "auth", "token": self.token}))
        ok = json.loads(await asyncio.wait_for(self._socket.recv(), timeout=10))
        assert ok["type"] == "auth.ok", ok
        if resume:
            await self.resume(resume_after)
        self.closed_with = None
        self._reader = asyncio.create_task(self._read(self._socket))

    async def resume(self, after: str | None) -> None:
        assert self._socket is not None
        await self._socket.send(json.dumps({"type": "resume", "after": after}))

    async def _read(self, connection: ClientConnection) -> None:
        try:
            async for message in connection:
                self.frames.append(json.loads(message))
                self.arrived.append(time.time())
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        self.closed_with = connection.close_code if connection.close_code is not None else 1006
        self._changed.set()

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            await self._reader

    async def until(self, done: Callable[["NotificationClient"], bool], within: float = 60) -> None:
        deadline = time.monotonic() + within
        while not done(self):
            remaining = deadline - time.monotonic()
            seen = [(f.get("type"), f.get("transfer_id"), f.get("state")) for f in self.frames]
            assert remaining > 0, f"gave up waiting; closed {self.closed_with}; frames: {seen}"
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=remaining)

    def updates(self, transfer_id: str | None = None) -> list[Frame]:
        return [
            f
            for f in self.frames
            if f.get("type") == "transfer.updated"
            and (transfer_id is None or f["transfer_id"] == transfer_id)
        ]

    def states(self, transfer_id: str) -> list[str]:
        return [f["state"] for f in self.updates(transfer_id)]

    @property
    def last_tx(self) -> str | None:
        updates = self.updates()
        return updates[-1]["tx_id"] if updates else None

    def resumed(self, count: int = 1) -> bool:
        return sum(f.get("type") == "resume.completed" for f in self.frames) >= count


async def stalled_connection(url: str, token: str) -> ClientConnection:
    """A connection whose client reads nothing after the handshake: a tiny receive buffer,
    and the caller never calls recv() until it wants to see how it ended."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.setblocking(False)
    host_port = url.split("/")[2]
    host, port = host_port.rsplit(":", 1)
    await asyncio.get_running_loop().sock_connect(raw, (host, int(port)))
    connection = await websockets.connect(url, sock=raw, max_queue=4, ping_interval=None)
    await connection.send(json.dumps({"type": "auth", "token": token}))
    ok = json.loads(await asyncio.wait_for(connection.recv(), timeout=10))
    assert ok["type"] == "auth.ok", ok
    return connection
