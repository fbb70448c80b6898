"""May this principal take this action on this transfer now? (pure)

The answer comes from the transition table in ``schemas`` and the contract's own notion
of parties, so the API refuses exactly what the contract would refuse, before publishing.

AccessDenied
 ├── NotAParty        (403: the caller has nothing to do with the transfer)
 └── WrongRole        (403: a party, but this action is never theirs)
ActionNotAllowedNow   (409: theirs to take, but not from the current state)
"""

from ledger_gateway.chaincode import parties_of
from ledger_gateway.chaincode.contract import HasParties
from schemas import TRANSITIONS, Action, Actor, TransferState, rule_for


class AccessDenied(Exception):
    pass


class NotAParty(AccessDenied):
    pass


class WrongRole(AccessDenied):
    pass


class ActionNotAllowedNow(Exception):
    def __init__(self, action: Action, current_state: TransferState) -> None:
        super().__init__(f"{action.value} is not allowed while the transfer is {current_state}")
        self.current_state = current_state


def may_see(actor: Actor, transfer: HasParties) -> bool:
    return bool(parties_of(actor, transfer))


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
