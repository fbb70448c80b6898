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
    Party,
    Rule,
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
    if not _permits(actor, parties, rule_for(state, action)):
        raise ActionNotAllowedNow(action, state)


def may_become_allowed(
    actor: Actor, transfer: HasParties, state: TransferState, action: Action
) -> bool:
    """Whether ``actor`` could take ``action`` from some state the table leads to from
    ``state``: a refusal on ``state`` may then be a stale view, not a final answer."""
    parties = parties_of(actor, transfer)
    return any(_permits(actor, parties, rule_for(later, action)) for later in _later_states(state))


def _permits(actor: Actor, parties: frozenset[Party], rule: Rule | None) -> bool:
    return rule is not None and actor.role in rule.roles and bool(parties & rule.parties)


def _later_states(state: TransferState) -> set[TransferState]:
    later: set[TransferState] = set()
    frontier = [state]
    while frontier:
        current = frontier.pop()
        for (from_state, _), rule in TRANSITIONS.items():
            if from_state is current and rule.next_state not in later:
                later.add(rule.next_state)
                frontier.append(rule.next_state)
    return later


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
