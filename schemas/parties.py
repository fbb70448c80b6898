"""How an actor relates to a transfer: the party rules the contract enforces, the API checks
before publishing, and the notifier uses to decide who hears of a change (pure)."""

from typing import Protocol

from schemas.actors import Actor
from schemas.transitions import Party, Role


class HasParties(Protocol):
    @property
    def requesting_org(self) -> str: ...

    @property
    def source_org(self) -> str: ...

    @property
    def patient_pseudonym(self) -> str: ...


def parties_of(actor: Actor, transfer: HasParties) -> frozenset[Party]:
    """How ``actor`` relates to ``transfer`` (possibly several ways, or none)."""
    parties: set[Party] = set()
    if actor.role is Role.PATIENT:
        # A pseudonym is on the ledger for any member to read: the patient's home
        # organisation vouches for it, so it must be the transfer's source.
        if actor.org == transfer.source_org and actor.user_id == transfer.patient_pseudonym:
            parties.add(Party.PATIENT)
        return frozenset(parties)
    if actor.org == transfer.requesting_org:
        parties.add(Party.REQUESTING_ORG)
    if actor.org == transfer.source_org:
        parties.add(Party.SOURCE_ORG)
    return frozenset(parties)


def may_see(actor: Actor, transfer: HasParties) -> bool:
    return bool(parties_of(actor, transfer))
