"""The confidential clients' secrets: generated per installation, written into the realm
files Keycloak imports, and set on a Keycloak that imported its realms before."""

import asyncio
import json
from pathlib import Path
from typing import Any

from keycloak import KeycloakAdmin

from infra.secrets import client_secret, keycloak_admin_password
from infra.settings import InfraSettings

ADMIN_USER = "admin"


def with_installation_secrets(realm: dict[str, Any], settings: InfraSettings) -> dict[str, Any]:
    """The realm with every confidential client's secret replaced by this installation's."""
    clients = [
        {**client, "secret": client_secret(settings, client["clientId"])}
        if "secret" in client
        else client
        for client in realm.get("clients", [])
    ]
    return {**realm, "clients": clients}


def write_realm(source: Path, target: Path, settings: InfraSettings) -> None:
    realm = with_installation_secrets(json.loads(source.read_text()), settings)
    target.touch(mode=0o600)
    target.chmod(0o600)
    target.write_text(json.dumps(realm, indent=2))


def _sync(settings: InfraSettings, realm_files: list[Path]) -> int:
    changed = 0
    for path in realm_files:
        realm = json.loads(path.read_text())
        admin = KeycloakAdmin(
            server_url=settings.keycloak_url,
            username=ADMIN_USER,
            password=keycloak_admin_password(settings),
            realm_name=realm["realm"],
            user_realm_name="master",
        )
        for client in realm.get("clients", []):
            if "secret" not in client:
                continue
            wanted = client_secret(settings, client["clientId"])
            client_uuid = admin.get_client_id(client["clientId"])
            if client_uuid is None:
                continue
            if admin.get_client_secrets(client_uuid).get("value") != wanted:
                admin.update_client(client_uuid, {"secret": wanted})
                changed += 1
    return changed


async def sync_client_secrets(settings: InfraSettings, realm_files: list[Path]) -> int:
    """Sets each confidential client's secret to this installation's (a Keycloak imports a
    realm only once, so one imported earlier still holds the secret it came with)."""
    return await asyncio.to_thread(_sync, settings, realm_files)
