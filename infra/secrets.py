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


PSEUDONYM_KEY = "pseudonym-key"
KEYCLOAK_ADMIN_PASSWORD = "keycloak-admin-password"


def pseudonym_key(settings: InfraSettings) -> str:
    """The keyed hash's key every pseudonym of this installation is made with."""
    return installation_secret(settings, PSEUDONYM_KEY)


def client_secret(settings: InfraSettings, client_id: str) -> str:
    """The secret of a confidential Keycloak client of this installation."""
    return installation_secret(settings, f"client-{client_id}")


def keycloak_admin_password(settings: InfraSettings) -> str:
    """The master realm admin's password: generated for a new Keycloak; a Keycloak whose
    admin was created before secrets were generated keeps the configured one."""
    generated = settings.secrets_dir / KEYCLOAK_ADMIN_PASSWORD
    keycloak_database = settings.keycloak_data_dir / "h2"
    if generated.is_file() or not keycloak_database.exists():
        return installation_secret(settings, KEYCLOAK_ADMIN_PASSWORD)
    return settings.keycloak_admin_password


def ledger_access(settings: InfraSettings) -> dict[str, dict[str, str]]:
    """How the Applications Server reads each organisation's Blockchain API (its client,
    secret and address), as ``CUREX_LEDGER_ACCESS`` carries it."""
    return {
        org: {
            "client_id": client_id,
            "client_secret": client_secret(settings, client_id),
            "base_url": f"http://127.0.0.1:{port}",
        }
        for org, client_id, port in (
            ("ES-SERMAS", "ledger-es-sermas", settings.ledger_gateway_port),
            ("SE-KI", "ledger-se-ki", settings.ledger_gateway_se_ki_port),
        )
    }
