"""Once the server answers: the services' role and database, the metrics exporter's role,
then the schema migrations."""

import asyncio

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

from infra.postgres.server import app_password, conninfo, database_url, monitor_password
from infra.settings import InfraSettings
from read_model.migrations import upgrade_schema

# The exporter's connections: it holds one, a few leave room for a restart's overlap.
_MONITOR_CONNECTION_LIMIT = 3
# The predefined role that may read every statistics view (and no table).
_MONITOR_GROUP = "pg_monitor"

Connection = psycopg.AsyncConnection[TupleRow]


async def _ensure_login_role(db: Connection, name: str, password: str) -> None:
    """Creates role ``name`` or, when it exists, sets its password to this installation's."""
    exists = await (
        await db.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
    ).fetchone()
    verb = sql.SQL("ALTER ROLE") if exists else sql.SQL("CREATE ROLE")
    await db.execute(
        sql.SQL("{} {} LOGIN PASSWORD {}").format(verb, sql.Identifier(name), sql.Literal(password))
    )


async def _set_up_monitor_role(db: Connection, name: str, password: str) -> None:
    """A login-only role whose one privilege is membership of ``pg_monitor`` (reading the
    statistics views); it owns nothing and is granted no table. Any other attribute or
    membership it was given since is taken back."""
    role = sql.Identifier(name)
    await _ensure_login_role(db, name, password)
    await db.execute(
        sql.SQL(
            "ALTER ROLE {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
            "CONNECTION LIMIT {}"
        ).format(role, sql.Literal(_MONITOR_CONNECTION_LIMIT))
    )
    await db.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(_MONITOR_GROUP), role))
    others = await (
        await db.execute(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
            " JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s AND g.rolname <> %s",
            (name, _MONITOR_GROUP),
        )
    ).fetchall()
    for (group,) in others:
        await db.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(str(group)), role))


async def set_up_database(settings: InfraSettings) -> None:
    """Idempotent: the roles get this installation's passwords, the database is created once,
    and the schema is migrated to the newest revision."""
    role = sql.Identifier(settings.database_user)
    async with await psycopg.AsyncConnection.connect(
        conninfo(settings, superuser=True), autocommit=True
    ) as db:
        await _ensure_login_role(db, settings.database_user, app_password(settings))
        await _set_up_monitor_role(db, settings.database_monitor_user, monitor_password(settings))
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
