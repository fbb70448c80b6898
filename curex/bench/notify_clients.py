"""The clients of `curex bench notify`, in a process of their own:
``python -m curex.bench.notify_clients --url WS --clients N`` (the token in
``CUREX_BENCH_TOKEN``, never on the command line).

Opens N authenticated sockets, says how many it holds (one JSON line on stdout), then
records each ``transfer.updated`` frame's delay from the ledger transaction's timestamp.
When stdin names the transfers and how many changes each must bring, it waits for them
(with a deadline) and answers with one JSON line of figures.
"""

import argparse
import asyncio
import os
import sys
import time
from collections import Counter
from datetime import datetime
from typing import Any

import orjson
import uvloop
import websockets
from websockets.asyncio.client import ClientConnection

_CONNECTING = 100  # handshakes in flight


class Client:
    __slots__ = ("closed_with", "counts", "delays", "socket")

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.delays: list[tuple[str, float]] = []
        self.counts: Counter[str] = Counter()
        self.closed_with: int | None = None

    async def read(self, changed: asyncio.Event) -> None:
        try:
            async for message in self.socket:
                arrived = time.time()
                frame: dict[str, Any] = orjson.loads(message)
                if frame.get("type") == "transfer.updated":
                    at = datetime.fromisoformat(frame["occurred_at"]).timestamp()
                    self.delays.append((frame["transfer_id"], arrived - at))
                    self.counts[frame["transfer_id"]] += 1
                    changed.set()
        except websockets.ConnectionClosed:
            pass
        self.closed_with = self.socket.close_code or 1006
        changed.set()


async def _open(url: str, token: str, gate: asyncio.Semaphore) -> ClientConnection:
    async with gate:
        socket = await websockets.connect(
            url, ping_interval=None, compression=None, open_timeout=60, max_queue=None
        )
        await socket.send(orjson.dumps({"type": "auth", "token": token}).decode())
        ok = orjson.loads(await asyncio.wait_for(socket.recv(), timeout=60))
        if ok.get("type") != "auth.ok":
            await socket.close()
            raise ConnectionError(f"not authenticated: {ok.get('type')}")
        return socket


def _emit(figures: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(figures).decode() + "\n")
    sys.stdout.flush()


async def _expectation() -> dict[str, Any]:
    line = await asyncio.to_thread(sys.stdin.readline)
    expected: dict[str, Any] = orjson.loads(line)
    return expected


async def run(url: str, token: str, count: int) -> None:
    gate = asyncio.Semaphore(_CONNECTING)
    opened = await asyncio.gather(
        *(_open(url, token, gate) for _ in range(count)), return_exceptions=True
    )
    clients = [Client(s) for s in opened if not isinstance(s, BaseException)]
    refused = Counter(type(s).__name__ for s in opened if isinstance(s, BaseException))
    changed = asyncio.Event()
    readers = [asyncio.create_task(client.read(changed)) for client in clients]
    _emit({"connected": len(clients), "refused": dict(refused)})
    expected = await _expectation()
    transfers: list[str] = expected["transfers"]
    each = int(expected["changes_per_transfer"])
    deadline = time.monotonic() + float(expected["within_s"])

    def complete(client: Client) -> bool:
        return client.closed_with is not None or all(client.counts[t] >= each for t in transfers)

    while not all(complete(c) for c in clients) and time.monotonic() < deadline:
        changed.clear()
        try:
            await asyncio.wait_for(changed.wait(), timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            break
    wanted = set(transfers)
    delays = [d for c in clients for t, d in c.delays if t in wanted]
    received = sum(c.counts[t] for c in clients for t in transfers)
    most = max((c.counts[t] for c in clients for t in transfers), default=0)
    _emit(
        {
            "held": sum(c.closed_with is None for c in clients),
            "closed": dict(Counter(str(c.closed_with) for c in clients if c.closed_with)),
            "received": received,
            "most_per_transfer": most,
            "delays": delays,
        }
    )
    for client in clients:
        await client.socket.close()
    for reader in readers:
        reader.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--clients", type=int, required=True)
    args = parser.parse_args()
    token = os.environ["CUREX_BENCH_TOKEN"]
    uvloop.run(run(args.url, token, args.clients))


if __name__ == "__main__":
    main()
