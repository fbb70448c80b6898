"""Waiting in async unit tests: poll a condition under a deadline, never a fixed sleep."""

import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], object], within_s: float = 2.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while loop.time() < deadline:
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition never held")
