"""The Applications Database's schema, versioned with Alembic; ``curex up`` runs
``upgrade_schema`` before any service that reads or writes it starts."""

from pathlib import Path

from alembic import command
from alembic.config import Config

HEAD = "head"


def _config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    # SQLAlchemy's psycopg 3 dialect; the services use psycopg directly.
    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_schema(database_url: str, revision: str = HEAD) -> None:
    command.upgrade(_config(database_url), revision)


def downgrade_schema(database_url: str, revision: str) -> None:
    command.downgrade(_config(database_url), revision)
