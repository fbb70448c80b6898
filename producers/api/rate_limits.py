"""How often a professional (and their organisation) may create transfers and declare
emergencies: moving windows kept by the ``limits`` library, answered 429 with Retry-After.

The windows live in this process's memory; several Applications Server instances would
share them through one of the library's stores (Redis, Memcached) instead.
"""

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from producers.errors import RateLimited
from schemas import Actor


class CreateLimits:
    def __init__(self, per_user: str, per_org: str, emergencies_per_user: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_user = parse(per_user)
        self._per_org = parse(per_org)
        self._emergencies = parse(emergencies_per_user)

    async def admit(self, actor: Actor, emergency: bool) -> None:
        """Count one create by ``actor``, or raise RateLimited without counting anything."""
        windows: list[tuple[RateLimitItem, str, str]] = [
            (self._per_user, "creates-by-user", actor.user_id),
            (self._per_org, "creates-by-org", actor.org),
        ]
        if emergency:
            windows.append((self._emergencies, "emergencies-by-user", actor.user_id))
        for item, *key in windows:
            if not await self._limiter.test(item, *key):
                stats = await self._limiter.get_window_stats(item, *key)
                raise RateLimited(
                    f"too many {key[0].replace('-', ' ')}: at most {item}",
                    retry_after_s=max(1, math.ceil(stats.reset_time - time.time())),
                )
        for item, *key in windows:
            await self._limiter.hit(item, *key)
