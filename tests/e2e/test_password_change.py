"""POST /v1/me/password changes the password in Keycloak, after checking the old one."""

import uuid
from collections.abc import Iterator

import pytest
from keycloak import KeycloakAdmin, KeycloakOpenIDConnection

from curex.errors import ApiError
from curex.rest_client import ApplicationsClient, password_token
from infra.secrets import keycloak_admin_password
from infra.settings import InfraSettings

pytestmark = pytest.mark.integration
FIRST_PASSWORD = "first-password-123"
SECOND_PASSWORD = "second-password-456"


@pytest.fixture
def professional(stack: InfraSettings) -> Iterator[str]:
    """A health professional of SE-KI who exists for this test only; yields the username."""
    # The realm administrator sets the scene; the API itself uses its service account.
    admin = KeycloakAdmin(
        connection=KeycloakOpenIDConnection(
            server_url=stack.keycloak_url,
            realm_name="curex",
            user_realm_name="master",
            username="admin",
            password=keycloak_admin_password(stack),
        )
    )
    username = f"test.{uuid.uuid4().hex[:10]}"
    user_id = admin.create_user(
        {
            "username": username,
            "enabled": True,
            "email": f"{username}@example.org",
            "emailVerified": True,
            "firstName": "Test",
            "lastName": "Doctor",
            "attributes": {"org": ["SE-KI"]},
            "credentials": [{"type": "password", "value": FIRST_PASSWORD, "temporary": False}],
        }
    )
    admin.assign_realm_roles(user_id, [admin.get_realm_role("health_professional")])
    yield username
    admin.delete_user(user_id)


async def test_the_password_changes_only_with_the_right_current_password(
    stack: InfraSettings, professional: str
) -> None:
    api_url = f"http://127.0.0.1:{stack.api_port}"
    token = await password_token(stack.keycloak_url, professional, FIRST_PASSWORD)
    async with ApplicationsClient(api_url, token) as me:
        wrong = await me.http.post(
            "/v1/me/password",
            json={"current_password": "not-it-at-all", "new_password": SECOND_PASSWORD},
        )
        assert wrong.status_code == 403
        right = await me.http.post(
            "/v1/me/password",
            json={"current_password": FIRST_PASSWORD, "new_password": SECOND_PASSWORD},
        )
        assert right.status_code == 204, right.text
    assert await password_token(stack.keycloak_url, professional, SECOND_PASSWORD)
    with pytest.raises(ApiError):
        await password_token(stack.keycloak_url, professional, FIRST_PASSWORD)


async def test_the_realm_refuses_a_password_like_the_username_or_used_lately(
    stack: InfraSettings, professional: str
) -> None:
    api_url = f"http://127.0.0.1:{stack.api_port}"
    token = await password_token(stack.keycloak_url, professional, FIRST_PASSWORD)
    async with ApplicationsClient(api_url, token) as me:
        changed = await me.http.post(
            "/v1/me/password",
            json={"current_password": FIRST_PASSWORD, "new_password": SECOND_PASSWORD},
        )
        assert changed.status_code == 204, changed.text
        for refused in (professional, FIRST_PASSWORD):  # the username; one of the last 3
            answer = await me.http.post(
                "/v1/me/password",
                json={"current_password": SECOND_PASSWORD, "new_password": refused},
            )
            assert answer.status_code == 422, answer.text
            assert "refused" in answer.json()["detail"]


async def test_ten_wrong_passwords_lock_the_account_for_a_while(
    stack: InfraSettings, professional: str
) -> None:
    for _ in range(10):
        with pytest.raises(ApiError):
            await password_token(stack.keycloak_url, professional, "not-the-password-at-all")
    # Locked: even the right password is refused now.
    with pytest.raises(ApiError):
        await password_token(stack.keycloak_url, professional, FIRST_PASSWORD)
