"""Launching the document DB (FerretDB over SQLite) and probing it with a MongoDB `ping`."""

from pymongo import AsyncMongoClient

from infra.errors import Unhealthy
from infra.ferretdb.build import build_ferretdb, ferretdb_binary
from infra.health import HealthProbe
from infra.progress import ProgressReporter
from infra.settings import InfraSettings

_PROBE_TIMEOUT_MS = 3000


def prepare_docdb(settings: InfraSettings, progress: ProgressReporter) -> None:
    """Builds the server when its binary is missing or stale and creates its data dir."""
    build_ferretdb(settings, progress)
    settings.docdb_data_dir.mkdir(parents=True, exist_ok=True)


def docdb_command(settings: InfraSettings) -> list[str]:
    host = settings.docdb_host
    listen = f"[{host}]:{settings.docdb_port}" if ":" in host else f"{host}:{settings.docdb_port}"
    return [
        str(ferretdb_binary(settings)),
        f"-listen-addr={listen}",
        f"-sqlite-dir={settings.docdb_data_dir}",
        f"-log-level={settings.docdb_log_level}",
    ]


def mongo_ping(url: str) -> HealthProbe:
    """A probe that wants the server at `url` to answer the `ping` command."""

    async def probe() -> None:
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
            url,
            serverSelectionTimeoutMS=_PROBE_TIMEOUT_MS,
            connectTimeoutMS=_PROBE_TIMEOUT_MS,
            timeoutMS=_PROBE_TIMEOUT_MS,
        )
        try:
            reply = await client.admin.command("ping")
        finally:
            await client.close()
        if reply.get("ok") != 1:
            raise Unhealthy(f"ping to {url} answered {reply}")

    return probe
