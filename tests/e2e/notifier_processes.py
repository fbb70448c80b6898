"""Extra notifier instances for a test: real processes, configured as `curex up` configures
the stack's own, on ports of their own; each can be killed with SIGKILL."""

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from infra.services import service_registry
from infra.settings import InfraSettings


@dataclass
class NotifierProcess:
    port: int
    process: asyncio.subprocess.Process

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/notifications"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    async def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.process.wait(), timeout=10)


async def _wait_healthy(instance: NotifierProcess, within: float = 60) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as http:
        while True:
            assert instance.process.returncode is None, "the notifier instance exited"
            try:
                if (await http.get(f"http://127.0.0.1:{instance.port}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the notifier instance never became healthy"
            await asyncio.sleep(0.1)  # the interval of a deadline-bounded poll


@asynccontextmanager
async def notifier_instances(
    stack: InfraSettings, count: int, extra_env: Mapping[str, str] | None = None
) -> AsyncIterator[list[NotifierProcess]]:
    spec = service_registry(stack)["notifier"]
    started: list[NotifierProcess] = []
    try:
        for index in range(count):
            port = stack.notifier_port + 100 + index
            env = {
                **os.environ,
                **spec.env,
                "CUREX_NOTIFIER_PORT": str(port),
                **(extra_env or {}),
            }
            with (stack.logs_dir / f"notifier-test-{port}.log").open("ab") as log:
                process = await asyncio.create_subprocess_exec(
                    *spec.command(),
                    env=env,
                    cwd=spec.cwd,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=log,
                )
            started.append(NotifierProcess(port, process))
        for instance in started:
            await _wait_healthy(instance)
        yield started
    finally:
        for instance in started:
            if instance.process.returncode is None:
                instance.process.terminate()
                try:
                    await asyncio.wait_for(instance.process.wait(), timeout=20)
                except TimeoutError:
                    await instance.kill()
