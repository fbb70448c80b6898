"""The pipeline's baseline: the same transfers' hops through raw Kafka relays, same run.

Same shape as the saturation phase: as many creates, published flat out from this process
to a requests topic; each of the path's transitions is a hop through a processors-shaped
relay process and a gateway-shaped one (``curex.bench.relay``), on scratch topics with the
pipeline topics' partition count, with messages of the pipeline's sizes. What it leaves
out is the pipeline's own work (validation, the contract, the ledger's commit), so
pipeline ÷ baseline, both in committed transitions/s, is the share the plumbing leaves.
"""

import asyncio
import contextlib
import dataclasses
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from curex.bench.baseline import scratch_topics
from curex.bench.errors import BenchError
from curex.bench.paths import EMERGENCY_PATH, PathLatencies, measure_paths
from curex.bench.relay import ACCESS_ENV, STEP, RelayPlan, step_of
from curex.bench.rss import cpu_snapshot
from schemas.topics import LEDGER_BLOCKS, TopicSpec
from service_runtime.follower import TopicFollower
from service_runtime.kafka_access import KafkaAccess
from service_runtime.kafka_producer import durable_producer


@dataclass(frozen=True, slots=True)
class MessageSizes:
    request: bytes  # a create, as the pipeline's publisher sends it
    command_size: int
    block_size: int


@dataclass(frozen=True, slots=True)
class BaselineRun:
    paths: PathLatencies
    cpu_s: dict[str, float]  # CPU seconds of each relay process and of the broker


@asynccontextmanager
async def _relays(
    plans: list[RelayPlan], access: KafkaAccess, run_id: str, within: float
) -> AsyncIterator[dict[str, int]]:
    env = {**os.environ, ACCESS_ENV: json.dumps(dataclasses.asdict(access))}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "curex.bench.relay_process",
            json.dumps(dataclasses.asdict(plan)),
            f"curex-bench-{run_id}-{plan.role}",
            env=env,
            stdout=asyncio.subprocess.PIPE,
        )
        for plan in plans
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            try:
                line = await asyncio.wait_for(process.stdout.readline(), timeout=within)
            except TimeoutError as exc:
                raise BenchError(f"a baseline relay did not start within {within:g}s") from exc
            if line.strip() != b"ready":
                raise BenchError(f"a baseline relay failed to start (exit {process.returncode})")
        yield {f"relay-{plan.role}": p.pid for plan, p in zip(plans, processes, strict=True)}
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        for process in processes:
            await process.wait()


async def run_pipeline_baseline(
    access: KafkaAccess,
    run_id: str,
    count: int,
    sizes: MessageSizes,
    within: float,
    broker_pid: int,
) -> BaselineRun:
    last_step = len(EMERGENCY_PATH)
    async with scratch_topics(
        access, run_id, ("requests", "commands", "blocks"), LEDGER_BLOCKS.partitions
    ) as (requests, commands, blocks):
        plans = [
            RelayPlan(
                role,
                requests,
                commands,
                blocks,
                last_step,
                sizes.command_size,
                sizes.block_size,
            )
            for role in ("processors", "gateway")
        ]
        spec = TopicSpec(blocks, LEDGER_BLOCKS.partitions, "transfer id", "baseline blocks")
        async with (
            _relays(plans, access, run_id, within) as relay_pids,
            TopicFollower(access, spec) as follower,
        ):
            pids = {**relay_pids, "kafka": broker_pid}
            cpu_before = cpu_snapshot(pids)
            producer = durable_producer(access)
            await producer.start()
            try:
                published = await _publish(producer, requests, sizes.request, count)
            finally:
                await producer.stop()
            arrivals = await _follow(follower, published, last_step, within)
            cpu_after = cpu_snapshot(pids)
    states = {step: state for step, state in enumerate(EMERGENCY_PATH, start=1)}
    commits = {
        key: {states[step]: at for step, at in by_step.items() if step in states}
        for key, by_step in arrivals.items()
    }
    return BaselineRun(
        measure_paths(published, commits, EMERGENCY_PATH),
        {name: cpu_after[name] - cpu_before[name] for name in pids},
    )


async def _publish(
    producer: AIOKafkaProducer, topic: str, payload: bytes, count: int
) -> dict[str, float]:
    published: dict[str, float] = {}
    acks = []
    for index in range(count):
        key = f"base-{index:06d}"
        published[key] = time.perf_counter()
        acks.append(await producer.send(topic, payload, key=key.encode(), headers=[(STEP, b"0")]))
        if index % 50 == 49:
            await asyncio.sleep(0)  # let arrivals be timed while publishing
    await asyncio.gather(*acks)
    return published


async def _follow(
    follower: TopicFollower, published: dict[str, float], last_step: int, within: float
) -> dict[str, dict[int, float]]:
    arrivals: dict[str, dict[int, float]] = defaultdict(dict)
    finished = 0

    async def until_finished() -> None:
        nonlocal finished
        async for records in follower.batches():
            now = time.perf_counter()
            for record in records:
                by_step = arrivals[(record.key or b"").decode()]
                step = step_of(record)
                if step not in by_step:
                    by_step[step] = now
                    finished += step == last_step
            if finished >= len(published):
                return

    try:
        await asyncio.wait_for(until_finished(), timeout=within)
    except TimeoutError as exc:
        raise BenchError(
            f"the baseline finished {finished} of {len(published)} transfers in {within:g}s"
        ) from exc
    return arrivals
