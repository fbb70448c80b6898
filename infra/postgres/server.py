"""Running the Applications Database: a PostgreSQL cluster of this installation.

PostgreSQL refuses to run as root. Run by root, the cluster belongs to the ``postgres``
user Debian's package creates and lives under that user's home (root's own home is closed
to it), with a link to it from the data directory; otherwise it lives in the data
directory and runs as the caller. Only TCP on loopback is served, with SCRAM passwords
generated per installation.
"""

import hashlib
import os
import pwd
import shutil
import subprocess
from pathlib import Path

import psycopg

from infra.errors import ServiceFailed
from infra.health import HealthProbe
from infra.postgres.install import ensure_server, server_bin_dir
from infra.progress import ProgressReporter
from infra.secrets import installation_secret
from infra.settings import InfraSettings

SUPERUSER = "postgres"
SERVICE_USER = "postgres"  # who runs the server when `curex up` runs as root
_POSTGRES_HOME = Path("/var/lib/postgresql")
_PROBE_TIMEOUT_S = 3


def runs_as(settings: InfraSettings) -> str | None:
    """The user the server runs as, or None for the caller."""
    return SERVICE_USER if os.geteuid() == 0 else None


def cluster_dir(settings: InfraSettings) -> Path:
    if runs_as(settings) is None:
        return settings.data_dir / "postgres"
    # One cluster per data directory, named by it.
    digest = hashlib.sha256(str(settings.data_dir.resolve()).encode()).hexdigest()[:12]
    return _POSTGRES_HOME / "curex" / digest


_SUPERUSER_SECRET = "database-superuser-password"


def superuser_password(settings: InfraSettings) -> str:
    return installation_secret(settings, _SUPERUSER_SECRET)


def app_password(settings: InfraSettings) -> str:
    return installation_secret(settings, "database-password")


MONITOR_SECRET = "database-monitor-password"


def monitor_password(settings: InfraSettings) -> str:
    """The password of the login-only role the metrics exporter connects as."""
    return installation_secret(settings, MONITOR_SECRET)


def conninfo(
    settings: InfraSettings, *, superuser: bool = False, database: str | None = None
) -> str:
    user = SUPERUSER if superuser else settings.database_user
    password = superuser_password(settings) if superuser else app_password(settings)
    return psycopg.conninfo.make_conninfo(
        host=settings.database_host,
        port=settings.database_port,
        user=user,
        password=password,
        dbname=database or (SUPERUSER if superuser else settings.database_name),
        connect_timeout=_PROBE_TIMEOUT_S,
    )


def database_url(settings: InfraSettings) -> str:
    """The URL the services connect with (``CUREX_DATABASE_URL``)."""
    return (
        f"postgresql://{settings.database_user}:{app_password(settings)}"
        f"@{settings.database_host}:{settings.database_port}/{settings.database_name}"
    )


def _chown(path: Path, user: str | None) -> None:
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def prepare_postgres(settings: InfraSettings, progress: ProgressReporter) -> None:
    """Installs the server if absent and creates this installation's cluster once."""
    bin_dir = ensure_server(progress)
    cluster = cluster_dir(settings)
    user = runs_as(settings)
    if user is not None:
        link = settings.data_dir / "postgres"
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            shutil.rmtree(link, ignore_errors=True)
            link.symlink_to(cluster, target_is_directory=True)
    # A cluster whose password this data dir never knew was left by a deleted data dir.
    known = (settings.secrets_dir / _SUPERUSER_SECRET).is_file()
    if known and (cluster / "PG_VERSION").is_file():
        return
    progress.stage(f"Creating the Applications Database cluster in {cluster}")
    shutil.rmtree(cluster, ignore_errors=True)
    cluster.mkdir(parents=True, mode=0o700)
    for path in (cluster.parent, cluster):
        _chown(path, user)
    password_file = cluster.parent / f".{cluster.name}.pw"
    password_file.write_text(superuser_password(settings))
    _chown(password_file, user)
    try:
        done = subprocess.run(
            [
                str(bin_dir / "initdb"),
                f"--pgdata={cluster}",
                f"--username={SUPERUSER}",
                f"--pwfile={password_file}",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            user=user,
            cwd=cluster,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        password_file.unlink(missing_ok=True)
    if done.returncode != 0:
        shutil.rmtree(cluster, ignore_errors=True)
        raise ServiceFailed(f"initdb exited {done.returncode}: {done.stderr.strip()[-2000:]}")


def postgres_command(settings: InfraSettings) -> list[str]:
    bin_dir = server_bin_dir()
    if bin_dir is None:
        raise ServiceFailed("PostgreSQL is not installed: run `curex up` to install it")
    return [
        str(bin_dir / "postgres"),
        "-D",
        str(cluster_dir(settings)),
        "-c",
        f"listen_addresses={settings.database_host}",
        "-c",
        f"port={settings.database_port}",
        # TCP on loopback only: no socket file in a directory others may share.
        "-c",
        "unix_socket_directories=",
        "-c",
        "shared_buffers=256MB",
        "-c",
        "max_connections=200",
        "-c",
        "log_min_messages=warning",
        "-c",
        "log_checkpoints=off",
    ]


def postgres_ready(settings: InfraSettings) -> HealthProbe:
    """A probe that wants the server to answer a query as its superuser."""

    async def probe() -> None:
        async with await psycopg.AsyncConnection.connect(conninfo(settings, superuser=True)) as db:
            await db.execute("SELECT 1")

    return probe
