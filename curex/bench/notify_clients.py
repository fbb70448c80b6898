"""The clients of `curex bench notify`, in a process of their own:
``python -m curex.bench.notify_clients --url WS --clients N --recipients R`` (the tokens in
``CUREX_BENCH_TOKEN`` and ``CUREX_BENCH_BYSTANDER_TOKEN``, never on the command line).

Opens N authenticated sockets: R as the patient whose transfers change (the recipients),
the others as another patient (bystanders, who must get none of it). Says how many it holds
(one JSON line on stdout), then records each ``transfer.updated`` frame's delay from the
ledger transaction's timestamp. When stdin names the transfers and how many changes each
must bring, it waits for the recipients to get them (with a deadline) and answers with one
JSON line of figures.
"""

import argparse
import asyncio
import gc
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
    __slots__ = ("closed_with", "counts", "delays", "recipient", "socket")

    def __init__(self, socket: ClientConnection, recipient: bool) -> None:
        self.socket = socket
        self.recipient = recipient
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


async def run(url: str, tokens: tuple[str, str | None], count: int, recipients: int) -> None:
    recipient_token, bystander_token = tokens
    gate = asyncio.Semaphore(_CONNECTING)
    roles = [index < recipients for index in range(count)]
    opened = await asyncio.gather(
        *(_open(url, recipient_token if role else bystander_token or "", gate) for role in roles),
        return_exceptions=True,
    )
    clients = [
        Client(s, role)
        for s, role in zip(opened, roles, strict=True)
        if not isinstance(s, BaseException)
    ]
    refused = Counter(type(s).__name__ for s in opened if isinstance(s, BaseException))
    changed = asyncio.Event()
    readers = [asyncio.create_task(client.read(changed)) for client in clients]
    # The clients live until the end: out of the collector's sight, so that full
    # collections over ten thousand sockets do not stall this process's reading and pass
    # for the notifier's latency.
    gc.freeze()
    _emit(
        {
            "connected": len(clients),
            "recipients": sum(c.recipient for c in clients),
            "refused": dict(refused),
        }
    )
    expected = await _expectation()
    transfers: list[str] = expected["transfers"]
    each = int(expected["changes_per_transfer"])
    deadline = time.monotonic() + float(expected["within_s"])
    waited_for = [c for c in clients if c.recipient]

    def complete(client: Client) -> bool:
        return client.closed_with is not None or all(client.counts[t] >= each for t in transfers)

    while not all(complete(c) for c in waited_for) and time.monotonic() < deadline:
        changed.clear()
        try:
            await asyncio.wait_for(changed.wait(), timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            break
    wanted = set(transfers)
    delays = [d for c in waited_for for t, d in c.delays if t in wanted]
    received = sum(c.counts[t] for c in waited_for for t in transfers)
    most = max((c.counts[t] for c in waited_for for t in transfers), default=0)
    bystanders = [c for c in clients if not c.recipient]
    _emit(
        {
            "held": sum(c.closed_with is None for c in clients),
            "closed": dict(Counter(str(c.closed_with) for c in clients if c.closed_with)),
            "received": received,
            "most_per_transfer": most,
            "delays": delays,
            "bystander_frames": sum(c.counts[t] for c in bystanders for t in transfers),
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
    parser.add_argument("--recipients", type=int, required=True)
    args = parser.parse_args()
    tokens = (os.environ["CUREX_BENCH_TOKEN"], os.environ.get("CUREX_BENCH_BYSTANDER_TOKEN"))
    uvloop.run(run(args.url, tokens, args.clients, args.recipients))


if __name__ == "__main__":
    main()
