"""The API's pre-check agrees with the contract: 403 for strangers and wrong roles, 409 for
the wrong moment, and allowed exactly when the contract would commit."""

import itertools

import pytest

from ledger_gateway.chaincode import ContractError
from producers.authorization import authorise, may_become_allowed
from producers.errors import ActionNotAllowedNow, NotAParty, WrongRole
from schemas import AUDIT_ACTIONS, Action, Party, Role, TransferState
from tests.unit.contract_world import World, actor_for

API_ACTIONS = [a for a in Action if a not in AUDIT_ACTIONS and a is not Action.CREATE]
CASES = [
    (state, action, role, party)
    for state, action, role, party in itertools.product(
        TransferState, API_ACTIONS, Role, [None, *Party]
    )
    # A patient relates to a transfer only as its patient; orgs never as the patient.
    if party is None or (role is Role.PATIENT) == (party is Party.PATIENT)
]


@pytest.mark.parametrize(("state", "action", "role", "party"), CASES)
def test_the_api_precheck_allows_exactly_what_the_contract_commits(
    state: TransferState, action: Action, role: Role, party: Party | None
) -> None:
    world = World()
    world.seed_orgs()
    transfer = world.create("t-api-check")
    world.force_state("t-api-check", state, emergency=True, deadline_passed=True)
    actor = actor_for(role, party)
    try:
        authorise(actor, transfer, state, action)
        api_allows = True
    except (NotAParty, WrongRole, ActionNotAllowedNow):
        api_allows = False
    try:
        world.act("t-api-check", action, actor)
        contract_commits = True
    except ContractError:
        contract_commits = False
    assert api_allows == contract_commits


def test_a_stranger_gets_403_and_a_party_at_the_wrong_moment_gets_409() -> None:
    world = World()
    world.seed_orgs()
    transfer = world.create("t-api-codes")
    stranger = actor_for(Role.HEALTH_PROFESSIONAL, None)
    with pytest.raises(NotAParty):
        authorise(stranger, transfer, TransferState.INITIALISED, Action.CANCEL)
    patient = actor_for(Role.PATIENT, Party.PATIENT)
    with pytest.raises(WrongRole):
        authorise(patient, transfer, TransferState.DATA_AVAILABLE, Action.MARK_TRANSFERRED)
    with pytest.raises(ActionNotAllowedNow) as error:
        authorise(patient, transfer, TransferState.INITIALISED, Action.GRANT_CONSENT)
    assert error.value.current_state is TransferState.INITIALISED


def test_a_refusal_may_be_stale_only_when_a_later_state_allows_the_action() -> None:
    world = World()
    world.seed_orgs()
    transfer = world.create("t-api-later")
    source_doctor = actor_for(Role.HEALTH_PROFESSIONAL, Party.SOURCE_ORG)
    patient = actor_for(Role.PATIENT, Party.PATIENT)
    S = TransferState
    # The data may yet become available, so the read model may be behind the ledger.
    assert may_become_allowed(source_doctor, transfer, S.RISK_ACCEPTED, Action.MARK_TRANSFERRED)
    assert may_become_allowed(source_doctor, transfer, S.INITIALISED, Action.MARK_TRANSFERRED)
    # Already past it, or at an end: no later state allows it.
    assert not may_become_allowed(
        source_doctor, transfer, S.DATA_TRANSFERRED, Action.MARK_TRANSFERRED
    )
    assert not may_become_allowed(source_doctor, transfer, S.CLOSED, Action.MARK_TRANSFERRED)
    assert not may_become_allowed(patient, transfer, S.DATA_AVAILABLE, Action.GRANT_CONSENT)
    # Never theirs, from any state.
    assert not may_become_allowed(patient, transfer, S.INITIALISED, Action.MARK_TRANSFERRED)
    requester = actor_for(Role.HEALTH_PROFESSIONAL, Party.REQUESTING_ORG)
    assert not may_become_allowed(requester, transfer, S.INITIALISED, Action.MARK_TRANSFERRED)
