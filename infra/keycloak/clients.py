"""What a Keycloak that imported its realms before must be brought up to, since Keycloak
imports a realm only once: the confidential clients' secrets (generated per installation,
also written into the realm files it imports) and the realms' login protection (brute-force
detection, password policy) and the web client's addresses (redirect URIs, web origins)."""

import asyncio
import json
from pathlib import Path
from typing import Any

from keycloak import KeycloakAdmin

from infra.keycloak.admin_permissions import ensure_grants
from infra.secrets import client_secret, keycloak_admin_password
from infra.settings import InfraSettings

ADMIN_USER = "admin"
# The realm settings kept as the committed realm files say, on every `up`.
PROTECTION_SETTINGS = (
    "bruteForceProtected",
    "permanentLockout",
    "failureFactor",
    "waitIncrementSeconds",
    "maxFailureWaitSeconds",
    "minimumQuickLoginWaitSeconds",
    "quickLoginCheckMilliSeconds",
    "maxDeltaTimeSeconds",
    "passwordPolicy",
    # Needed by the service accounts' scoped grants (infra.keycloak.admin_permissions).
    "adminPermissionsEnabled",
)


def with_installation_secrets(realm: dict[str, Any], settings: InfraSettings) -> dict[str, Any]:
    """The realm with every confidential client's secret replaced by this installation's."""
    clients = [
        {**client, "secret": client_secret(settings, client["clientId"])}
        if "secret" in client
        else client
        for client in realm.get("clients", [])
    ]
    return {**realm, "clients": clients}


# The web client's origin as the committed realm names it; an installation may move it.
COMMITTED_API_ORIGIN = "http://127.0.0.1:8080"


# A public client's addresses, kept as the committed realm names them (on this
# installation's API port), on every `up`.
ADDRESS_SETTINGS = ("redirectUris", "webOrigins", "rootUrl")
POST_LOGOUT_URIS = "post.logout.redirect.uris"
# Kept as committed too (absent: the realm's default), so a lifespan a test or an operator
# shortened does not outlive them.
TOKEN_LIFESPAN = "access.token.lifespan"


def _installation_realm(source: Path, settings: InfraSettings) -> dict[str, Any]:
    text = source.read_text().replace(COMMITTED_API_ORIGIN, f"http://127.0.0.1:{settings.api_port}")
    realm: dict[str, Any] = json.loads(text)
    return realm


def write_realm(source: Path, target: Path, settings: InfraSettings) -> None:
    realm = with_installation_secrets(_installation_realm(source, settings), settings)
    target.touch(mode=0o600)
    target.chmod(0o600)
    target.write_text(json.dumps(realm, indent=2))


def _address_changes(wanted: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """What of ``wanted``'s addresses and token lifespan ``current`` (the client Keycloak
    holds) lacks."""
    changes = {
        key: wanted[key]
        for key in ADDRESS_SETTINGS
        if key in wanted and not _same_setting(current.get(key), wanted[key])
    }
    wanted_attributes = wanted.get("attributes", {})
    attributes = current.get("attributes", {})
    kept = {TOKEN_LIFESPAN: wanted_attributes.get(TOKEN_LIFESPAN, "")}
    logout = wanted_attributes.get(POST_LOGOUT_URIS)
    if logout is not None:
        kept[POST_LOGOUT_URIS] = logout
    if any(attributes.get(key, "") != value for key, value in kept.items()):
        # Keycloak merges attributes on update: an empty value is what removes one.
        changes["attributes"] = {**attributes, **kept}
    return changes


def _same_setting(current: Any, wanted: Any) -> bool:
    """Keycloak keeps a client's URIs as a set, in its own order."""
    if isinstance(current, list) and isinstance(wanted, list):
        return sorted(current) == sorted(wanted)
    return bool(current == wanted)


def _sync(settings: InfraSettings, realm_files: list[Path]) -> int:
    changed = 0
    for path in realm_files:
        realm = _installation_realm(path, settings)
        admin = KeycloakAdmin(
            server_url=settings.keycloak_url,
            username=ADMIN_USER,
            password=keycloak_admin_password(settings),
            realm_name=realm["realm"],
            user_realm_name="master",
        )
        wanted_protection = {key: realm[key] for key in PROTECTION_SETTINGS if key in realm}
        current = admin.get_realm(realm["realm"])
        if any(current.get(key) != value for key, value in wanted_protection.items()):
            admin.update_realm(realm["realm"], wanted_protection)
            changed += 1
        changed += _add_missing_roles(admin, realm)
        changed += _add_missing_scope_roles(admin, realm)
        changed += _add_missing_users(admin, realm)
        changed += ensure_grants(admin, realm["realm"])
        for client in realm.get("clients", []):
            if client.get("publicClient"):
                client_uuid = admin.get_client_id(client["clientId"])
                if client_uuid is None:
                    continue
                changes = _address_changes(client, admin.get_client(client_uuid))
                if changes:
                    admin.update_client(client_uuid, changes)
                    changed += 1
                continue
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


def _add_missing_roles(admin: KeycloakAdmin, realm: dict[str, Any]) -> int:
    """Creates each realm role of the realm file that a Keycloak imported earlier lacks (a
    role added since, such as ``dpo``), so the users given it can be created."""
    existing = {role["name"] for role in admin.get_realm_roles()}
    missing = [
        role for role in realm.get("roles", {}).get("realm", []) if role["name"] not in existing
    ]
    for role in missing:
        admin.create_realm_role(role, skip_exists=True)
    return len(missing)


def _add_missing_scope_roles(admin: KeycloakAdmin, realm: dict[str, Any]) -> int:
    """Gives each client the realm roles the realm file maps into its tokens and a Keycloak
    imported earlier lacks (without it, a user of a new role gets no ``role`` claim)."""
    added = 0
    for mapping in realm.get("scopeMappings", []):
        client_uuid = admin.get_client_id(mapping["client"])
        if client_uuid is None:
            continue
        current = {role["name"] for role in admin.get_realm_roles_of_client_scope(client_uuid)}
        missing = [admin.get_realm_role(name) for name in mapping["roles"] if name not in current]
        if missing:
            admin.assign_realm_roles_to_client_scope(client_uuid, missing)
            added += len(missing)
    return added


def _add_missing_users(admin: KeycloakAdmin, realm: dict[str, Any]) -> int:
    """Creates each person of the realm file that a Keycloak imported earlier lacks (a demo
    user added since), with their attributes, password and realm roles."""
    added = 0
    for user in realm.get("users", []):
        if "serviceAccountClientId" in user or admin.get_user_id(user["username"]):
            continue
        roles = user.get("realmRoles", [])
        payload = {key: value for key, value in user.items() if key != "realmRoles"}
        user_id = admin.create_user(payload, exist_ok=True)
        if roles:
            admin.assign_realm_roles(user_id, [admin.get_realm_role(role) for role in roles])
        added += 1
    return added


async def sync_installation(settings: InfraSettings, realm_files: list[Path]) -> int:
    """Sets each confidential client's secret to this installation's, each public client's
    addresses and each realm's login protection to the committed ones; returns how many
    things it changed."""
    return await asyncio.to_thread(_sync, settings, realm_files)
