"""The Applications Database's exporter: it reaches the database as a login-only member of
pg_monitor that can read no table, and what it exports never carries a statement's text."""

import uuid

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from psycopg import sql

from infra.postgres.exporter import exporter_address
from infra.postgres.server import conninfo, monitor_password
from infra.settings import InfraSettings

pytestmark = pytest.mark.integration


def _monitor_conninfo(stack: InfraSettings) -> str:
    return psycopg.conninfo.make_conninfo(
        host=stack.database_host,
        port=stack.database_port,
        user=stack.database_monitor_user,
        password=monitor_password(stack),
        dbname=stack.database_name,
    )


async def test_the_monitor_role_logs_in_holds_only_pg_monitor_and_reads_no_table(
    stack: InfraSettings,
) -> None:
    async with await psycopg.AsyncConnection.connect(conninfo(stack, superuser=True)) as admin:
        role = await (
            await admin.execute(
                "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication,"
                " rolbypassrls FROM pg_roles WHERE rolname = %s",
                (stack.database_monitor_user,),
            )
        ).fetchone()
        granted = await (
            await admin.execute(
                "SELECT g.rolname FROM pg_auth_members m"
                " JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member"
                " WHERE r.rolname = %s",
                (stack.database_monitor_user,),
            )
        ).fetchall()
    assert role == (True, False, False, False, False, False)
    assert granted == [("pg_monitor",)]
    async with await psycopg.AsyncConnection.connect(_monitor_conninfo(stack)) as monitor:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            await monitor.execute("SELECT count(*) FROM transfers")


async def test_the_exporter_reaches_the_database_and_exports_no_statement_text(
    stack: InfraSettings,
) -> None:
    canary = f"canary-{uuid.uuid4().hex}"
    # A session left idle in a transaction after a statement naming the canary: its text
    # sits in pg_stat_activity, which pg_monitor may read, while the exporter scrapes.
    async with await psycopg.AsyncConnection.connect(conninfo(stack)) as app:
        # A literal, not a parameter: the statement's text itself holds the canary.
        await app.execute(sql.SQL("SELECT {}").format(sql.Literal(canary)))
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://{exporter_address(stack)}/metrics")).text
        await app.rollback()
    families = list(text_string_to_metric_families(text))
    up = [s.value for f in families for s in f.samples if s.name == "pg_up"]
    assert up == [1.0]
    idle_in_transaction = [
        s.value
        for f in families
        for s in f.samples
        if s.name == "pg_stat_activity_count"
        and s.labels.get("state") == "idle in transaction"
        and s.labels.get("datname") == stack.database_name
    ]
    # The exporter saw the session...
    assert sum(idle_in_transaction) >= 1
    # ...and exported neither its statement nor any label that could carry one.
    assert canary not in text
    labels = {name for f in families for s in f.samples for name in s.labels}
    assert not labels & {"query", "queryid", "usename", "application_name", "client_addr"}
