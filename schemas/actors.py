"""Who takes an action: the identity the contract checks against the table."""

from pydantic import Field

from schemas.envelope import Message, OrgId
from schemas.transitions import Role


class Actor(Message):
    """A user or a platform process acting for an organisation.

    For a patient, ``user_id`` is their pseudonym, so the ledger never holds a direct
    identifier.
    """

    user_id: str = Field(min_length=1, max_length=128)
    org: OrgId
    role: Role
