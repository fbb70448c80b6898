"""Health probes and running them from synchronous code."""

import asyncio
import concurrent.futures
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from infra.errors import Unhealthy

HealthProbe = Callable[[], Coroutine[Any, Any, None]]
"""Returns when the service is healthy; raises (anything) with the reason otherwise."""

_T = TypeVar("_T")


def http_ok(url: str, timeout_s: float = 3.0) -> HealthProbe:
    """A probe that wants HTTP 200 from a GET of `url`."""

    def get() -> None:
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise Unhealthy(f"GET {url} answered {exc.code}") from exc
        if status != 200:
            raise Unhealthy(f"GET {url} answered {status}")

    async def probe() -> None:
        await asyncio.to_thread(get)

    return probe


def run_blocking(coroutine: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Runs a coroutine to completion from sync code, even when the caller has a loop running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine())
    # Under a running loop (an async test fixture, say) asyncio.run is refused,
    # so the coroutine gets a loop of its own on a worker thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, coroutine()).result()


async def check_health(probe: HealthProbe, timeout_s: float) -> str | None:
    """None when healthy, else why not."""
    try:
        await asyncio.wait_for(probe(), timeout_s)
    except TimeoutError:
        return f"no answer within {timeout_s:g}s"
    except Exception as exc:  # noqa: BLE001 - any failure of a probe means "not healthy yet"
        return str(exc) or type(exc).__name__
    return None
