"""Secrets generated once per installation, kept in the data directory (0600), never
committed: each service is handed the ones it needs through its environment."""

import secrets
from pathlib import Path

from infra.settings import InfraSettings


def installation_secret(settings: InfraSettings, name: str, nbytes: int = 32) -> str:
    """The secret ``name`` of this installation, generated on first use (hex)."""
    directory = settings.secrets_dir
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    path: Path = directory / name
    if not path.is_file():
        # Created 0600 before anything is written, so the secret is never readable by others.
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(nbytes))
    return path.read_text().strip()
