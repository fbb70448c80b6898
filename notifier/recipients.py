"""Whose inbox a committed change goes to, and which inbox a user reads (pure).

Professionals see their organisation's transfers, so an organisation has one inbox all its
professionals read; a patient has their own, keyed by pseudonym. The keys hold no direct
identifier. This mirrors ``schemas.parties_of``: a test holds the two together.
"""

from schemas import Role
from schemas.parties import HasParties
from service_runtime.users import Principal


def org_inbox(org: str) -> str:
    return f"org:{org}"


def patient_inbox(pseudonym: str) -> str:
    return f"patient:{pseudonym}"


def recipients_of(transfer: HasParties) -> list[str]:
    """Every inbox a change of ``transfer`` is written to, each once."""
    keys = [org_inbox(transfer.requesting_org), org_inbox(transfer.source_org)]
    keys.append(patient_inbox(transfer.patient_pseudonym))
    return list(dict.fromkeys(keys))


def inbox_of(principal: Principal) -> str | None:
    """The inbox ``principal`` reads, or None for a role that is told of no transfer."""
    if principal.role is Role.PATIENT:
        assert principal.patient_pseudonym is not None
        return patient_inbox(principal.patient_pseudonym)
    if principal.role is Role.HEALTH_PROFESSIONAL:
        return org_inbox(principal.org)
    return None
