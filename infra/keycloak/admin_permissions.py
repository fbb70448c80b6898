"""What a service account may do in the admin API, granted scope by scope.

Keycloak's legacy role ``manage-users`` lets the Applications Server rewrite any user's
``org`` and ``patient_id``, the attributes every authorisation decision stands on. A
password change needs only the ``reset-password`` scope on users, which Keycloak's
fine-grained admin permissions (v2) grant alone; a service account holding any legacy
admin role would bypass them, so those roles are taken away.
"""

import json
from dataclasses import dataclass
from typing import Any

from keycloak import KeycloakAdmin

ADMIN_PERMISSIONS_CLIENT = "admin-permissions"
LEGACY_ADMIN_CLIENT = "realm-management"


@dataclass(frozen=True)
class AdminGrant:
    """``service_account`` may use ``scopes`` on every resource of ``resource_type``."""

    name: str
    service_account: str
    resource_type: str
    scopes: tuple[str, ...]


GRANTS: dict[str, tuple[AdminGrant, ...]] = {
    "curex": (
        AdminGrant(
            name="applications-server-resets-passwords",
            service_account="service-account-applications-server",
            resource_type="Users",
            scopes=("reset-password",),
        ),
    ),
}


def ensure_grants(admin: KeycloakAdmin, realm: str) -> int:
    """Brings ``realm``'s service accounts to exactly their grants; returns how many things
    it changed. The realm must have admin permissions enabled."""
    changed = 0
    for grant in GRANTS.get(realm, ()):
        user_id = admin.get_user_id(grant.service_account)
        if user_id is None:
            continue
        changed += _drop_legacy_admin_roles(admin, user_id)
        changed += _ensure_permission(admin, realm, grant, user_id)
    return changed


def _drop_legacy_admin_roles(admin: KeycloakAdmin, user_id: str) -> int:
    legacy_client = admin.get_client_id(LEGACY_ADMIN_CLIENT)
    if legacy_client is None:
        return 0
    roles = admin.get_client_roles_of_user(user_id, legacy_client)
    if roles:
        admin.delete_client_roles_of_user(user_id, legacy_client, roles)
    return len(roles)


def _ensure_permission(admin: KeycloakAdmin, realm: str, grant: AdminGrant, user_id: str) -> int:
    client_uuid = admin.get_client_id(ADMIN_PERMISSIONS_CLIENT)
    if client_uuid is None:
        raise RuntimeError(f"realm {realm} has no admin permissions (adminPermissionsEnabled)")
    base = f"admin/realms/{realm}/clients/{client_uuid}/authz/resource-server"
    changed = 0
    policy_name = f"{grant.service_account} itself"
    policy = _named(admin, f"{base}/policy", policy_name)
    if policy is None:
        policy = _post(
            admin,
            f"{base}/policy/user",
            {"name": policy_name, "users": [user_id], "logic": "POSITIVE"},
        )
        changed += 1
    scope_ids = {scope["name"]: scope["id"] for scope in _get(admin, f"{base}/scope")}
    wanted = {
        "name": grant.name,
        "resourceType": grant.resource_type,
        "scopes": sorted(scope_ids[scope] for scope in grant.scopes),
        "policies": [policy["id"]],
        "decisionStrategy": "UNANIMOUS",
    }
    permission = _named(admin, f"{base}/permission", grant.name)
    if permission is None:
        _post(admin, f"{base}/permission/scope", wanted)
        return changed + 1
    path = f"{base}/permission/scope/{permission['id']}"
    current_scopes = sorted(scope["id"] for scope in _get(admin, f"{path}/scopes"))
    current_policies = [policy["id"] for policy in _get(admin, f"{path}/associatedPolicies")]
    if current_scopes != wanted["scopes"] or current_policies != wanted["policies"]:
        response = admin.connection.raw_put(path, data=json.dumps({**permission, **wanted}))
        response.raise_for_status()
        changed += 1
    return changed


def _named(admin: KeycloakAdmin, path: str, name: str) -> dict[str, Any] | None:
    found = [item for item in _get(admin, f"{path}?name={name}") if item["name"] == name]
    return found[0] if found else None


def _get(admin: KeycloakAdmin, path: str) -> list[dict[str, Any]]:
    response = admin.connection.raw_get(path)
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()
    return items


def _post(admin: KeycloakAdmin, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = admin.connection.raw_post(path, data=json.dumps(payload))
    response.raise_for_status()
    created: dict[str, Any] = response.json()
    return created
