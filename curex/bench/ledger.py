"""`curex bench ledger`: transactions/s and commit latency of each ledger adapter.

Three runs of the same workload (create-transfer transactions between the two member
organisations): the embedded ledger in a scratch directory, Fabric through the ledger
port (``FabricLedger``), and, as the baseline, a bare Gateway client sending the same
chaincode invocations with nothing of ours around it. On Fabric the bench uses its own
channel, which nothing of the workflow follows: its transfers never reach Kafka. Each run
keeps ``concurrency`` transactions in flight; the embedded ledger takes them as batches of
that size, as the gateway's intake does.
"""

import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from curex.bench.errors import BenchError
from curex.bench.latency import Percentiles, percentiles
from curex.bench.ledger_storage import StorageFigures, measure_storage
from curex.bench.ledger_workload import REQUESTING, creates, seed_commands
from curex.bench.rss import cpu_snapshot
from curex.org_ledgers import fabric_org_ledgers, open_embedded
from infra.fabric.network import BENCH_CHANNEL, gateway_connections
from infra.settings import InfraSettings
from ledger_gateway.fabric.gateway_client import GatewayClient
from ledger_gateway.fabric.ledger import CHAINCODE
from ledger_gateway.fabric.network import own_identity, peers
from ledger_gateway.port import Committed, Ledger
from schemas import (
    LedgerCommand,
)

Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class LedgerBenchOptions:
    transactions: int
    concurrency: int
    warmup: int


@dataclass(frozen=True, slots=True)
class LedgerRun:
    name: str
    committed: int
    failed: int
    elapsed_s: float
    latency: Percentiles | None
    # CPU seconds of each process taking part (this one included), over the measured run.
    cpu_s: dict[str, float] = field(default_factory=dict)

    @property
    def cpu_ms_per_tx(self) -> float | None:
        return sum(self.cpu_s.values()) * 1000 / self.committed if self.committed else None

    @property
    def per_s(self) -> float:
        return self.committed / self.elapsed_s if self.elapsed_s else 0.0


@dataclass(frozen=True, slots=True)
class LedgerBenchResult:
    runs: tuple[LedgerRun, ...]
    storage: StorageFigures

    def run(self, name: str) -> LedgerRun | None:
        return next((r for r in self.runs if r.name == name), None)


EMBEDDED = "embedded ledger (port)"
FABRIC = "Fabric (port: FabricLedger)"
BARE = "Fabric, bare Gateway client"


async def _seed(ledger: Ledger) -> None:
    outcomes = await ledger.submit(seed_commands())
    refused = [o for o in outcomes if not isinstance(o, Committed)]
    if refused:
        raise BenchError(f"the ledger refused the bench seed: {refused[0]}")


async def _closed_loop(
    name: str,
    commands: list[LedgerCommand],
    concurrency: int,
    one: Callable[[LedgerCommand], Awaitable[bool]],
) -> LedgerRun:
    """``concurrency`` workers, each sending its next command once the last committed."""
    queue = list(reversed(commands))
    latencies: list[float] = []
    failed = 0

    async def worker() -> None:
        nonlocal failed
        while queue:
            command = queue.pop()
            started = time.perf_counter()
            if await one(command):
                latencies.append(time.perf_counter() - started)
            else:
                failed += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return LedgerRun(name, len(latencies), failed, elapsed, percentiles(latencies))


async def _batched(
    name: str, ledger: Ledger, commands: list[LedgerCommand], batch: int
) -> LedgerRun:
    latencies: list[float] = []
    failed = 0
    started = time.perf_counter()
    for first in range(0, len(commands), batch):
        chunk = commands[first : first + batch]
        offered = time.perf_counter()
        outcomes = await ledger.submit(chunk)
        took = time.perf_counter() - offered
        for outcome in outcomes:
            if isinstance(outcome, Committed):
                latencies.append(took)
            else:
                failed += 1
    elapsed = time.perf_counter() - started
    return LedgerRun(name, len(latencies), failed, elapsed, percentiles(latencies))


THIS_PROCESS = "bench (client; the embedded ledger runs in it)"


async def _measured(pids: Mapping[str, int], run: Awaitable[LedgerRun]) -> LedgerRun:
    """The run, with the CPU each process spent during it."""
    before = cpu_snapshot(pids)
    result = await run
    after = cpu_snapshot(pids)
    return replace(result, cpu_s={name: after[name] - before[name] for name in pids})


async def bench_embedded(options: LedgerBenchOptions, scratch: Path) -> LedgerRun:
    ledgers, ports = open_embedded(scratch / "bench-ledger.sqlite", InfraSettings().network)
    # The creates are the requesting organisation's: its gateway's port signs them.
    requesting = ledgers.by_org[REQUESTING]
    try:
        await _seed(ledgers)
        await _batched(EMBEDDED, requesting, creates(options.warmup), options.concurrency)
        return await _measured(
            {THIS_PROCESS: os.getpid()},
            _batched(EMBEDDED, requesting, creates(options.transactions), options.concurrency),
        )
    finally:
        for port in ports:
            port.close()


async def bench_fabric_port(
    ledger: Ledger, options: LedgerBenchOptions, pids: Mapping[str, int]
) -> LedgerRun:
    async def one(command: LedgerCommand) -> bool:
        [outcome] = await ledger.submit([command])
        return isinstance(outcome, Committed)

    await _closed_loop(FABRIC, creates(options.warmup), options.concurrency, one)
    return await _measured(
        pids, _closed_loop(FABRIC, creates(options.transactions), options.concurrency, one)
    )


async def bench_bare_client(
    client: GatewayClient, options: LedgerBenchOptions, pids: Mapping[str, int]
) -> LedgerRun:
    """The same chaincode invocations, straight through one Gateway client."""

    async def one(command: LedgerCommand) -> bool:
        try:
            await client.submit_and_wait(CHAINCODE, "submit", [command.model_dump_json()])
        except Exception:  # noqa: BLE001 - a failed transaction is counted, not fatal
            return False
        return True

    await _closed_loop(BARE, creates(options.warmup), options.concurrency, one)
    return await _measured(
        pids, _closed_loop(BARE, creates(options.transactions), options.concurrency, one)
    )


async def run_ledger_bench(
    settings: InfraSettings,
    options: LedgerBenchOptions,
    fabric_pids: Mapping[str, int] | None,
    log: Log,
) -> LedgerBenchResult:
    """``fabric_pids``: the Fabric network's processes, to measure Fabric too; None: not."""
    runs: list[LedgerRun] = []
    with tempfile.TemporaryDirectory(prefix="curex-bench-ledger-") as scratch:
        log(f"embedded ledger: {options.transactions} transactions")
        runs.append(await bench_embedded(options, Path(scratch)))
        log(f"embedded ledger storage: {options.transactions // 4} transfers' emergency paths")
        storage = await measure_storage(Path(scratch), max(1, options.transactions // 4))
    if fabric_pids is None:
        return LedgerBenchResult(tuple(runs), storage)
    pids = {**fabric_pids, THIS_PROCESS: os.getpid()}
    # The creates are the requesting organisation's: the bare client signs as it.
    connections = gateway_connections(settings, REQUESTING)
    own_peer = next(p for p in peers(connections) if p.msp_id == REQUESTING)
    bare = GatewayClient(own_peer.endpoint, own_identity(connections, REQUESTING), BENCH_CHANNEL)
    try:
        async with fabric_org_ledgers(settings, BENCH_CHANNEL) as ledgers:
            await _seed(ledgers)
            log(f"Fabric through the ledger port: {options.transactions} transactions")
            runs.append(await bench_fabric_port(ledgers.by_org[REQUESTING], options, pids))
        log(f"Fabric through a bare Gateway client: {options.transactions} transactions")
        runs.append(await bench_bare_client(bare, options, pids))
    finally:
        await bare.close()
    return LedgerBenchResult(tuple(runs), storage)
