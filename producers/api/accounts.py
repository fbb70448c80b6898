"""Password changes in Keycloak: the old password is checked first (python-keycloak)."""

from keycloak import KeycloakAdmin, KeycloakOpenID, KeycloakOpenIDConnection
from keycloak.exceptions import KeycloakAuthenticationError, KeycloakError, KeycloakPostError

from producers.api.settings import ApiSettings
from producers.errors import PasswordRejected, WrongCurrentPassword


class Accounts:
    def __init__(self, settings: ApiSettings) -> None:
        self._login = KeycloakOpenID(
            server_url=settings.keycloak_url,
            realm_name=settings.users_realm,
            client_id=settings.web_client_id,
        )
        self._admin = KeycloakAdmin(
            connection=KeycloakOpenIDConnection(
                server_url=settings.keycloak_url,
                realm_name=settings.users_realm,
                client_id=settings.admin_client_id,
                client_secret_key=settings.admin_client_secret,
            )
        )

    async def change_password(self, user_id: str, username: str, current: str, new: str) -> None:
        try:
            await self._login.a_token(username, current)
        except KeycloakAuthenticationError as error:
            raise WrongCurrentPassword("the current password is wrong") from error
        except KeycloakPostError as error:
            # Keycloak 26 answers a wrong password with 400 invalid_grant.
            if error.response_code == 400 and b"invalid_grant" in (error.response_body or b""):
                raise WrongCurrentPassword("the current password is wrong") from error
            raise
        try:
            await self._admin.a_set_user_password(user_id, new, temporary=False)
        except KeycloakError as error:
            if error.response_code == 400:
                raise PasswordRejected(f"the new password was refused: {error}") from error
            raise
