"""One benchmark run against the running stack: setup, both phases, the baseline."""

import gc
import itertools
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace

from aiokafka.errors import KafkaError

from curex.bench.errors import BenchError
from curex.bench.pipeline import Offered, PhaseResult, offer_at_rate, offer_flat_out, settle
from curex.bench.pipeline_baseline import BaselineRun, MessageSizes, run_pipeline_baseline
from curex.bench.projection import wait_projected
from curex.bench.read_lag import lag_buckets, p99_bound
from curex.bench.rss import RssSampler, cpu_snapshot
from curex.bench.seeding import seed
from curex.bench.warm_up import WINDOW_S, WarmUp, compiler_cpu_s, share_of_a_core
from curex.bench.workload import BenchWorld, new_world
from curex.block_watch import BlockWatcher
from curex.bus import observer_access, open_bus
from curex.stack_settings import processor_settings
from infra.kafka.principals import BENCH
from infra.kafka.security import kafka_access
from infra.settings import InfraSettings
from processors.intake import ledger_command_for
from processors.records import LocalRecordsStore
from producers.publisher import CommandPublisher

BENCH_PROCESS = "bench (this process)"


@contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage-collection pauses in the measuring process while it takes timestamps.

    The bench holds every report it receives; a full collection of that heap would show up
    as pipeline latency that the services never caused.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass(frozen=True, slots=True)
class BenchOptions:
    rates: tuple[float, ...]  # creates/s of each fixed-rate phase
    duration_s: float
    saturation_count: int
    deadline_s: float  # for each wait: seeding, a phase's transfers, the baseline
    warmup_s: float = 5.0  # at least; then on until the broker's compilers are quiet
    warmup_max_s: float = 60.0


@dataclass(frozen=True, slots=True)
class BenchResult:
    options: BenchOptions
    world: BenchWorld
    warm_up: WarmUp
    fixed_rates: tuple[PhaseResult, ...]  # one per rate in options.rates
    saturation: PhaseResult
    baseline: BaselineRun  # the same transfers' hops through raw Kafka relays
    peak_rss: dict[str, int]  # bytes, by service
    pids: dict[str, int]

    @property
    def incomplete(self) -> int:
        return sum(p.incomplete for p in self.fixed_rates) + self.saturation.incomplete


async def _pipeline_phases(
    stack: InfraSettings,
    read_model_port: int,
    database_url: str,
    world: BenchWorld,
    options: BenchOptions,
    pids: Mapping[str, int],
    say: Callable[[str], None],
) -> tuple[WarmUp, tuple[PhaseResult, ...], PhaseResult, MessageSizes]:
    settings = processor_settings(stack)
    key = settings.pseudonym_key.encode()
    observer = observer_access(stack)
    async with open_bus(stack) as bus:
        publisher = bus.publisher
        async with BlockWatcher(observer) as watcher:
            say(f"seeding organisations {world.requesting_org} and {world.source_org}")
            await seed(
                world,
                publisher,
                watcher,
                LocalRecordsStore(settings.records_dir, key),
                options.deadline_s,
            )
            warm_up = await _warm_up(publisher, watcher, world, options, pids.get("kafka"), say)
            fixed_rates: list[PhaseResult] = []
            for number, rate in enumerate(options.rates):
                say(f"fixed rate: {rate:g} creates/s for {options.duration_s:g}s")
                await wait_projected(observer, database_url, options.deadline_s)
                lag_before = await lag_buckets(read_model_port)
                with collector_paused():
                    offered = await offer_at_rate(
                        publisher,
                        world,
                        f"rate{number}",
                        rate,
                        options.duration_s,
                        options.deadline_s,
                    )
                    phase = await settle(watcher, offered, options.deadline_s)
                await wait_projected(observer, database_url, options.deadline_s)
                lag = p99_bound(lag_before, await lag_buckets(read_model_port))
                fixed_rates.append(replace(phase, read_model_lag_p99_s=lag))
            say(f"saturation: {options.saturation_count} creates flat out")
            # The bench's own process takes its share of the same two cores.
            measured = {**pids, BENCH_PROCESS: os.getpid()}
            cpu_before = cpu_snapshot(measured)
            offered = await offer_flat_out(
                publisher, world, options.saturation_count, options.deadline_s
            )
            saturation = await settle(watcher, offered, options.deadline_s)
            cpu_after = cpu_snapshot(measured)
            saturation = replace(
                saturation,
                cpu_s={name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after},
            )
            sizes = message_sizes(world, watcher, offered)
    return warm_up, tuple(fixed_rates), saturation, sizes


async def _warm_up(
    publisher: CommandPublisher,
    watcher: BlockWatcher,
    world: BenchWorld,
    options: BenchOptions,
    broker_pid: int | None,
    say: Callable[[str], None],
) -> WarmUp:
    """Unmeasured load at the highest fixed rate (JIT-compiled broker paths, warm caches,
    settled consumers): at least ``warmup_s``, then in further windows until the broker's
    JIT compilers are quiet, for at most ``warmup_max_s``. At the lowest rate the compilers
    went quiet too, yet the highest rate's phase still missed its target in two of three
    runs on a fresh stack: it runs paths the low rate had not made hot."""
    if options.warmup_s <= 0:
        return WarmUp(0.0, None)
    rate = max(options.rates)
    say(f"warm-up: {rate:g} creates/s until the broker's JIT compilers are quiet")
    started = time.perf_counter()
    window_s = options.warmup_s
    for number in itertools.count():
        window_started = time.perf_counter()
        cpu_before = None if broker_pid is None else compiler_cpu_s(broker_pid)
        offered = await offer_at_rate(
            publisher, world, f"warm{number}", rate, window_s, options.deadline_s
        )
        await settle(watcher, offered, options.deadline_s)
        now = time.perf_counter()
        cpu_after = None if broker_pid is None else compiler_cpu_s(broker_pid)
        warm_up = WarmUp(
            now - started, share_of_a_core(cpu_before, cpu_after, now - window_started)
        )
        if warm_up.quiet is not False or warm_up.seconds + WINDOW_S > options.warmup_max_s:
            return warm_up
        window_s = WINDOW_S
    raise AssertionError("unreachable")


def message_sizes(world: BenchWorld, watcher: BlockWatcher, offered: Offered) -> MessageSizes:
    """The sizes of the pipeline's own messages in this run, for the baseline."""
    create = world.emergency_transfer("base", 0)
    blocks = [
        len(report.model_dump_json())
        for transfer_id in list(offered.published_at)[:100]
        for report in watcher.committed(transfer_id)
    ]
    return MessageSizes(
        request=create.model_dump_json().encode(),
        command_size=len(ledger_command_for(create).model_dump_json()),
        block_size=round(sum(blocks) / len(blocks)) if blocks else 1000,
    )


async def run_bench(
    stack: InfraSettings,
    read_model_port: int,
    database_url: str,
    pids: Mapping[str, int],
    options: BenchOptions,
    say: Callable[[str], None],
) -> BenchResult:
    world = new_world(processor_settings(stack).pseudonym_key.encode())
    bench = kafka_access(stack, BENCH)
    try:
        async with RssSampler(pids) as rss:
            warm_up, fixed_rates, saturation, sizes = await _pipeline_phases(
                stack, read_model_port, database_url, world, options, pids, say
            )
            say(f"baseline: {options.saturation_count} transfers' hops through raw Kafka relays")
            baseline = await run_pipeline_baseline(
                bench,
                world.run_id,
                options.saturation_count,
                sizes,
                options.deadline_s,
                broker_pid=pids["kafka"],
            )
    except KafkaError as exc:
        raise BenchError(f"Kafka failed during the bench: {exc!r}") from exc
    return BenchResult(
        options=options,
        world=world,
        warm_up=warm_up,
        fixed_rates=fixed_rates,
        saturation=saturation,
        baseline=baseline,
        peak_rss=dict(rss.peaks),
        pids=dict(pids),
    )
