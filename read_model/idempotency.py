"""Idempotency keys as the well-known payment APIs keep them: a key is scoped to one user,
route and transfer, remembers the request it was first sent with for a day, and a reuse
with another request is refused rather than taken for a repeat."""

import hashlib
from datetime import timedelta

from psycopg_pool import AsyncConnectionPool

KEY_LIFETIME = timedelta(hours=24)


def digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode()).digest()


class IdempotencyKeys:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def claim(self, scope: bytes, request: bytes) -> bool:
        """True when ``scope`` is new (now claimed), expired (claimed again) or was used for
        this same ``request``; False when it was used for another request."""
        async with self._pool.connection() as db:
            row = await (
                await db.execute(
                    "INSERT INTO idempotency_keys (scope, request) VALUES (%s, %s) "
                    "ON CONFLICT (scope) DO UPDATE SET request = EXCLUDED.request, "
                    "created_at = now() "
                    "WHERE idempotency_keys.created_at < now() - %s "
                    "RETURNING request",
                    (scope, request, KEY_LIFETIME),
                )
            ).fetchone()
            if row is not None:
                return True
            stored = await (
                await db.execute("SELECT request FROM idempotency_keys WHERE scope = %s", (scope,))
            ).fetchone()
        return stored is not None and bytes(stored[0]) == request
