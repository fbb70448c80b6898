"""What the platform tells an organisation's assessment tools about finished transfers.

Counts and outcome codes only: no transfer id, no patient, no person, and the time only
to the hour, so a record cannot be matched to one transfer by its timestamp.
"""

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from schemas.envelope import Message, OrgId
from schemas.states import TransferState
from schemas.transitions import Action


class TransferFeedback(Message):
    """One finished transfer, seen from one of its two organisations."""

    schema_version: Literal[1] = 1
    # Derived from the committing transaction: a record delivered twice has one id.
    event_id: UUID
    org_id: OrgId
    role: Literal["requesting", "source"]
    outcome: TransferState
    # The action that finished it (e.g. ``reject_risk``, ``revoke``, ``expire``, ``close``).
    action: Action
    emergency: bool
    transfers: int = Field(default=1, ge=1)
    hour: AwareDatetime
