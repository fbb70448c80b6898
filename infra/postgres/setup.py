"""Once the server answers: the services' role and database, then the schema migrations."""

import asyncio

import psycopg
from psycopg import sql

from infra.postgres.server import app_password, conninfo, database_url
from infra.settings import InfraSettings
from read_model.migrations import upgrade_schema


async def set_up_database(settings: InfraSettings) -> None:
    """Idempotent: the role gets this installation's password, the database is created once,
    and the schema is migrated to the newest revision."""
    role = sql.Identifier(settings.database_user)
    async with await psycopg.AsyncConnection.connect(
        conninfo(settings, superuser=True), autocommit=True
    ) as db:
        exists = await (
            await db.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (settings.database_user,))
        ).fetchone()
        verb = sql.SQL("ALTER ROLE") if exists else sql.SQL("CREATE ROLE")
        await db.execute(
            sql.SQL("{} {} LOGIN PASSWORD {}").format(
                verb, role, sql.Literal(app_password(settings))
            )
        )
        created = await (
            await db.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (settings.database_name,)
            )
        ).fetchone()
        if not created:
            await db.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(settings.database_name), role
                )
            )
    await asyncio.to_thread(upgrade_schema, database_url(settings))
