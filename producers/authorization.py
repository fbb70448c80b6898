"""May this principal take this action on this transfer now? (pure)

The answer comes from the transition table and the party rules in ``schemas``, the ones
the contract enforces, so the API refuses exactly what the contract would refuse, before
publishing.
"""

from collections.abc import Iterable

from producers.errors import ActionNotAllowedNow, BadRequest, NotAParty, WrongRole
from schemas import (
    TRANSITIONS,
    Action,
    Actor,
    HasParties,
    TransferState,
    parties_of,
    rule_for,
)


def authorise(actor: Actor, transfer: HasParties, state: TransferState, action: Action) -> None:
    """Raise unless ``actor`` may take ``action`` on ``transfer`` in ``state``."""
    parties = parties_of(actor, transfer)
    if not parties:
        raise NotAParty("you are not a party to this transfer")
    ever_allowed = [
        rule
        for (_, rule_action), rule in TRANSITIONS.items()
        if rule_action is action and actor.role in rule.roles and parties & rule.parties
    ]
    if not ever_allowed:
        raise WrongRole(f"{action.value} is not yours to take on this transfer")
    rule = rule_for(state, action)
    if rule is None or actor.role not in rule.roles or not parties & rule.parties:
        raise ActionNotAllowedNow(action, state)


def authorise_create(actor: Actor, source_org: str) -> None:
    """Raise unless ``actor`` may ask ``source_org`` for records: the table's creation rule.

    The creator is the requesting organisation by definition of the request; asking one's
    own organisation is refused, as the contract refuses it.
    """
    rule = rule_for(None, Action.CREATE)
    assert rule is not None  # the table always has the creation rule
    if actor.role not in rule.roles:
        allowed = ", ".join(sorted(role.value for role in rule.roles))
        raise WrongRole(f"only {allowed} may request transfers")
    if source_org == actor.org:
        raise BadRequest("source_org must be another organisation than your own")


def permitted_actions(
    actor: Actor, transfer: HasParties, state: TransferState, actions: Iterable[Action]
) -> list[Action]:
    """Those of ``actions`` that ``actor`` may take on ``transfer`` in ``state``, in order."""
    permitted = []
    for action in actions:
        try:
            authorise(actor, transfer, state, action)
        except (ActionNotAllowedNow, NotAParty, WrongRole):
            continue
        permitted.append(action)
    return permitted
