"""A database of its own per test module on the stack's PostgreSQL, migrated to a revision."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from infra.postgres.server import app_password, conninfo
from infra.settings import InfraSettings
from read_model.migrations import HEAD, upgrade_schema


def database_url_of(stack: InfraSettings, name: str) -> str:
    return (
        f"postgresql://{stack.database_user}:{app_password(stack)}"
        f"@{stack.database_host}:{stack.database_port}/{name}"
    )


@asynccontextmanager
async def scratch_database(stack: InfraSettings, revision: str | None = HEAD) -> AsyncIterator[str]:
    """A new database owned by the services' role, migrated to ``revision``; dropped after."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = conninfo(stack, superuser=True)
    async with await psycopg.AsyncConnection.connect(admin, autocommit=True) as db:
        await db.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(stack.database_user)
            )
        )
    url = database_url_of(stack, name)
    if revision is not None:
        upgrade_schema(url, revision)
    try:
        yield url
    finally:
        async with await psycopg.AsyncConnection.connect(admin, autocommit=True) as db:
            await db.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@asynccontextmanager
async def pool_on(url: str) -> AsyncIterator[AsyncConnectionPool]:
    pool = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=4,
        open=False,
        kwargs={"autocommit": True},
        check=AsyncConnectionPool.check_connection,
    )
    await pool.open(wait=True, timeout=30)
    try:
        yield pool
    finally:
        await pool.close()
