"""One benchmark run against the running stack: setup, both phases, the baseline."""

import gc
import os
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
from curex.bench.workload import BenchWorld, new_world
from curex.block_watch import BlockWatcher
from curex.bus import observer_access, open_bus
from curex.stack_settings import processor_settings
from infra.kafka.principals import BENCH
from infra.kafka.security import kafka_access
from infra.settings import InfraSettings
from processors.intake import ledger_command_for
from processors.records import LocalRecordsStore

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
    warmup_s: float = 5.0


@dataclass(frozen=True, slots=True)
class BenchResult:
    options: BenchOptions
    world: BenchWorld
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
) -> tuple[tuple[PhaseResult, ...], PhaseResult, MessageSizes]:
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
            if options.warmup_s > 0:
                # JIT-compiled broker paths, warm caches, settled consumers: not measured.
                say(f"warm-up: {options.rates[0]:g} creates/s for {options.warmup_s:g}s")
                offered = await offer_at_rate(
                    publisher, world, "warm", options.rates[0], options.warmup_s, options.deadline_s
                )
                await settle(watcher, offered, options.deadline_s)
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
    return tuple(fixed_rates), saturation, sizes


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
            fixed_rates, saturation, sizes = await _pipeline_phases(
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
        fixed_rates=fixed_rates,
        saturation=saturation,
        baseline=baseline,
        peak_rss=dict(rss.peaks),
        pids=dict(pids),
    )
