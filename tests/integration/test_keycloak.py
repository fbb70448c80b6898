"""The local Keycloak that `curex up` runs: both realms, the demo users' tokens, the clients.

Tokens are verified as the services will verify them: PyJWT against the realm's JWKS.
"""

import base64
import hashlib
import secrets
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from keycloak import KeycloakAdmin, KeycloakOpenIDConnection
from keycloak.exceptions import KeycloakError

from infra.keycloak.clients import ADMIN_USER, sync_installation
from infra.keycloak.service import realm_files
from infra.secrets import client_secret, keycloak_admin_password
from infra.settings import InfraSettings
from infra.supervision import Supervisor
from infra.testing import ensure_stack

pytestmark = pytest.mark.integration

DEMO_PASSWORD = "demo-password"
DEMO_USERS = [
    ("doctor.sermas", "ES-SERMAS", "health_professional", None),
    ("doctor.ki", "SE-KI", "health_professional", None),
    ("patient.es", "ES-SERMAS", "patient", "ES-1000001"),
    ("patient.se", "SE-KI", "patient", "SE-2000002"),
]


@pytest.fixture(scope="module")
def keycloak() -> InfraSettings:
    return ensure_stack(["keycloak"])


@pytest.fixture
def service_account(keycloak: InfraSettings) -> KeycloakAdmin:
    """The admin API as the Applications Server's service account sees it."""
    return KeycloakAdmin(
        connection=KeycloakOpenIDConnection(
            server_url=keycloak.keycloak_url,
            realm_name="curex",
            client_id="applications-server",
            client_secret_key=client_secret(keycloak, "applications-server"),
        )
    )


@pytest.fixture
def admin(keycloak: InfraSettings) -> KeycloakAdmin:
    """The realm administrator, who sets the scene."""
    return KeycloakAdmin(
        connection=KeycloakOpenIDConnection(
            server_url=keycloak.keycloak_url,
            realm_name="curex",
            user_realm_name="master",
            username=ADMIN_USER,
            password=keycloak_admin_password(keycloak),
        )
    )


@pytest.fixture
def throwaway_user(admin: KeycloakAdmin) -> Iterator[tuple[str, str]]:
    """A user of organisation SE-KI that exists only for one test: (id, username)."""
    username = f"test.{uuid.uuid4().hex[:10]}"
    user_id = admin.create_user(
        {
            "username": username,
            "enabled": True,
            "email": f"{username}@example.org",
            "emailVerified": True,
            "firstName": "Test",
            "lastName": "User",
            "attributes": {"org": ["SE-KI"]},
            "credentials": [{"type": "password", "value": DEMO_PASSWORD, "temporary": False}],
        }
    )
    yield user_id, username
    admin.delete_user(user_id)


def token_endpoint(settings: InfraSettings, realm: str) -> str:
    return f"{settings.keycloak_url}/realms/{realm}/protocol/openid-connect/token"


def password_grant(settings: InfraSettings, username: str, password: str) -> httpx.Response:
    return httpx.post(
        token_endpoint(settings, "curex"),
        data={
            "grant_type": "password",
            "client_id": "curex-web",
            "username": username,
            "password": password,
            "scope": "openid",
        },
    )


def client_credentials(
    settings: InfraSettings, realm: str, client_id: str, secret: str
) -> httpx.Response:
    return httpx.post(
        token_endpoint(settings, realm),
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


def verified_claims(settings: InfraSettings, realm: str, token: str, audience: str) -> Any:
    issuer = f"{settings.keycloak_url}/realms/{realm}"
    jwks = jwt.PyJWKClient(f"{issuer}/protocol/openid-connect/certs")
    return jwt.decode(
        token,
        jwks.get_signing_key_from_jwt(token).key,
        algorithms=["RS256"],
        audience=audience,
        issuer=issuer,
    )


def audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims["aud"]
    return [aud] if isinstance(aud, str) else list(aud)


@pytest.mark.parametrize(("username", "org", "role", "patient_id"), DEMO_USERS)
def test_demo_user_token_carries_org_role_and_patient_id(
    keycloak: InfraSettings, username: str, org: str, role: str, patient_id: str | None
) -> None:
    response = password_grant(keycloak, username, DEMO_PASSWORD)
    assert response.status_code == 200, response.text

    claims = verified_claims(
        keycloak, "curex", response.json()["access_token"], "applications-server"
    )

    assert claims["iss"] == f"{keycloak.keycloak_url}/realms/curex"
    assert "applications-server" in audiences(claims)
    assert claims["azp"] == "curex-web"
    assert claims["preferred_username"] == username
    assert claims["org"] == org
    assert claims["role"] == role
    assert claims["realm_access"]["roles"] == [role]
    assert claims.get("patient_id") == patient_id


def test_a_wrong_password_is_refused(keycloak: InfraSettings) -> None:
    response = password_grant(keycloak, "doctor.ki", "not-the-password")

    assert response.status_code == 400  # RFC 6749 section 5.2: invalid_grant is a 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("path", ["/callback", "/v1/me", "/hpa.evil/"])
def test_the_web_client_redirects_only_to_the_web_applications(
    keycloak: InfraSettings, path: str
) -> None:
    auth = f"{keycloak.keycloak_url}/realms/curex/protocol/openid-connect/auth"
    params = {
        "client_id": "curex-web",
        "response_type": "code",
        "scope": "openid",
        "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
    }
    allowed = httpx.get(
        auth, params={**params, "redirect_uri": f"http://127.0.0.1:{keycloak.api_port}/pa/"}
    )
    refused = httpx.get(
        auth, params={**params, "redirect_uri": f"http://127.0.0.1:{keycloak.api_port}{path}"}
    )
    assert allowed.status_code == 200  # the login page
    assert refused.status_code == 400
    assert "redirect_uri" in refused.text.lower() or "redirect" in refused.text.lower()


def test_the_web_client_requires_pkce(keycloak: InfraSettings) -> None:
    auth = f"{keycloak.keycloak_url}/realms/curex/protocol/openid-connect/auth"
    params = {
        "client_id": "curex-web",
        "response_type": "code",
        "redirect_uri": f"http://127.0.0.1:{keycloak.api_port}/hpa/",
        "scope": "openid",
        "state": secrets.token_urlsafe(8),
    }
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())

    without = httpx.get(auth, params=params)
    with_pkce = httpx.get(
        auth,
        params={
            **params,
            "code_challenge": challenge.decode().rstrip("="),
            "code_challenge_method": "S256",
        },
    )

    assert without.status_code == 302
    refusal = parse_qs(urlsplit(without.headers["location"]).query)
    assert refusal["error"] == ["invalid_request"]
    assert "code_challenge" in refusal["error_description"][0]
    assert with_pkce.status_code == 200  # the login page


def test_the_applications_server_may_not_log_users_in(keycloak: InfraSettings) -> None:
    response = httpx.post(
        token_endpoint(keycloak, "curex"),
        data={
            "grant_type": "password",
            "client_id": "applications-server",
            "client_secret": client_secret(keycloak, "applications-server"),
            "username": "doctor.ki",
            "password": DEMO_PASSWORD,
        },
    )

    assert response.status_code in (400, 401)
    assert response.json()["error"] == "unauthorized_client"


@pytest.mark.parametrize(
    ("client_id", "org"),
    [
        ("ledger-es-sermas", "ES-SERMAS"),
        ("ledger-se-ki", "SE-KI"),
        ("applications-server", None),
    ],
)
def test_ledger_clients_get_their_organisation_in_the_ledger_realm(
    keycloak: InfraSettings, client_id: str, org: str | None
) -> None:
    response = client_credentials(
        keycloak, "curex-ledger", client_id, client_secret(keycloak, client_id)
    )
    assert response.status_code == 200, response.text

    claims = verified_claims(
        keycloak, "curex-ledger", response.json()["access_token"], "blockchain-api"
    )

    assert claims["iss"] == f"{keycloak.keycloak_url}/realms/curex-ledger"
    assert claims["azp"] == client_id
    assert claims.get("org") == org


def test_a_ledger_client_is_refused_with_a_wrong_secret(keycloak: InfraSettings) -> None:
    response = client_credentials(keycloak, "curex-ledger", "ledger-se-ki", "wrong-secret")

    assert response.status_code == 401


def test_the_service_account_resets_a_users_password(
    keycloak: InfraSettings, service_account: KeycloakAdmin, throwaway_user: tuple[str, str]
) -> None:
    user_id, username = throwaway_user
    new_password = secrets.token_urlsafe(16)

    service_account.set_user_password(user_id, new_password, temporary=False)

    refused = password_grant(keycloak, username, DEMO_PASSWORD)
    assert refused.json().get("error") == "invalid_grant"
    response = password_grant(keycloak, username, new_password)
    assert response.status_code == 200, response.text
    claims = verified_claims(
        keycloak, "curex", response.json()["access_token"], "applications-server"
    )
    assert claims["org"] == "SE-KI"  # a declared attribute, stored and emitted


def service_account_calls(
    service_account: KeycloakAdmin, user_id: str
) -> dict[str, Callable[[], object]]:
    """What an Applications Server that was taken over would try with its account."""
    return {
        "list users": lambda: service_account.get_users({"username": "patient.es"}),
        "read a user": lambda: service_account.get_user(user_id),
        "rewrite a user's organisation": lambda: service_account.update_user(
            user_id, {"attributes": {"org": ["ES-SERMAS"], "patient_id": ["ES-1000001"]}}
        ),
        "create a user": lambda: service_account.create_user(
            {"username": f"test.{uuid.uuid4().hex[:10]}", "enabled": True}
        ),
        "give a user a role": lambda: service_account.assign_realm_roles(
            user_id, [{"name": "dpo"}]
        ),
        "delete a user": lambda: service_account.delete_user(user_id),
    }


def test_the_service_account_may_do_nothing_else_to_users(
    admin: KeycloakAdmin, service_account: KeycloakAdmin, throwaway_user: tuple[str, str]
) -> None:
    user_id, _ = throwaway_user
    allowed = []
    for name, call in service_account_calls(service_account, user_id).items():
        try:
            call()
        except KeycloakError as error:
            assert error.response_code == 403, (name, error)
        else:
            allowed.append(name)

    assert allowed == []
    user = admin.get_user(user_id)
    assert user["attributes"]["org"] == ["SE-KI"]
    assert "patient_id" not in user["attributes"]
    assert "dpo" not in {role["name"] for role in admin.get_realm_roles_of_user(user_id)}


async def test_up_takes_a_legacy_admin_role_back_from_the_service_account(
    keycloak: InfraSettings, admin: KeycloakAdmin
) -> None:
    """A Keycloak that imported the realm before least privilege still holds manage-users."""
    account = admin.get_user_id("service-account-applications-server")
    legacy = admin.get_client_id("realm-management")
    assert account is not None
    assert legacy is not None
    admin.assign_client_role(account, legacy, [admin.get_client_role(legacy, "manage-users")])

    await sync_installation(keycloak, realm_files())

    assert admin.get_client_roles_of_user(account, legacy) == []


def test_users_survive_a_restart_and_the_realm_import_keeps_them(
    keycloak: InfraSettings, admin: KeycloakAdmin, throwaway_user: tuple[str, str]
) -> None:
    user_id, username = throwaway_user

    # Only Keycloak restarts: the rest of a shared test stack keeps running.
    Supervisor(keycloak).stop("keycloak")
    ensure_stack(["keycloak"], keycloak)

    assert admin.get_user_id(username) == user_id
    assert password_grant(keycloak, username, DEMO_PASSWORD).status_code == 200
    assert password_grant(keycloak, "patient.es", DEMO_PASSWORD).status_code == 200
