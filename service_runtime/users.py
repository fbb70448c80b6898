"""Who is calling: the verified token turned into the identity the workflow uses."""

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from schemas import Actor, Role, pseudonymise
from schemas.envelope import Message, OrgId
from service_runtime.errors import NotAUser


class UserClaims(Message):
    """The claims the Applications Server relies on; anything else in the token is ignored."""

    model_config = Message.model_config | {"extra": "ignore"}

    sub: str
    preferred_username: str
    org: OrgId
    role: Role
    patient_id: str | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str  # Keycloak's subject id
    username: str
    org: str
    role: Role
    patient_pseudonym: str | None  # set for patients only

    @property
    def actor(self) -> Actor:
        """The actor the ledger records: a patient appears only as their pseudonym."""
        if self.role is Role.PATIENT:
            assert self.patient_pseudonym is not None
            return Actor(user_id=self.patient_pseudonym, org=self.org, role=self.role)
        return Actor(user_id=self.username, org=self.org, role=self.role)


def principal_from(claims: dict[str, Any], pseudonym_key: bytes) -> Principal:
    try:
        user = UserClaims.model_validate(claims)
    except ValidationError as error:
        # Name the claims only: echoing their values could put identifiers in a response.
        fields = sorted({".".join(map(str, e["loc"])) for e in error.errors()})
        raise NotAUser(f"token lacks valid user claims: {', '.join(fields)}") from error
    if user.role not in (Role.HEALTH_PROFESSIONAL, Role.PATIENT, Role.OPS, Role.DPO):
        raise NotAUser(f"role {user.role.value} does not use this API")
    pseudonym = None
    if user.role is Role.PATIENT:
        if not user.patient_id:
            raise NotAUser("a patient's token must carry patient_id")
        pseudonym = pseudonymise(pseudonym_key, user.org, user.patient_id)
    return Principal(user.sub, user.preferred_username, user.org, user.role, pseudonym)
