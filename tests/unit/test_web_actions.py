"""The actions a transfer's view offers its caller are exactly those the API would accept
now, so the pages show buttons from the table instead of keeping rules of their own."""

import itertools

import pytest

from producers.api.routes_transfers import PERSON_ACTIONS
from producers.authorization import authorise, permitted_actions
from producers.errors import ActionNotAllowedNow, NotAParty, WrongRole
from schemas import Action, Party, Role, TransferState
from tests.unit.contract_world import World, actor_for

CASES = [
    (state, role, party)
    for state, role, party in itertools.product(
        TransferState, [Role.HEALTH_PROFESSIONAL, Role.PATIENT], [None, *Party]
    )
    if party is None or (role is Role.PATIENT) == (party is Party.PATIENT)
]


@pytest.mark.parametrize(("state", "role", "party"), CASES)
def test_the_offered_actions_are_exactly_those_the_api_accepts(
    state: TransferState, role: Role, party: Party | None
) -> None:
    world = World()
    world.seed_orgs()
    transfer = world.create("t-offered")
    actor = actor_for(role, party)
    accepted = []
    for action in PERSON_ACTIONS:
        try:
            authorise(actor, transfer, state, action)
        except (NotAParty, WrongRole, ActionNotAllowedNow):
            continue
        accepted.append(action)
    assert permitted_actions(actor, transfer, state, PERSON_ACTIONS) == accepted


def test_a_patient_awaiting_consent_may_grant_refuse_or_revoke_and_nothing_else() -> None:
    world = World()
    world.seed_orgs()
    transfer = world.create("t-patient")
    patient = actor_for(Role.PATIENT, Party.PATIENT)
    assert permitted_actions(patient, transfer, TransferState.RISK_ACCEPTED, PERSON_ACTIONS) == [
        Action.GRANT_CONSENT,
        Action.REFUSE_CONSENT,
        Action.REVOKE,
    ]


def test_only_the_source_organisation_is_offered_mark_transferred() -> None:
    world = World()
    world.seed_orgs()
    transfer = world.create("t-source")
    source = actor_for(Role.HEALTH_PROFESSIONAL, Party.SOURCE_ORG)
    requester = actor_for(Role.HEALTH_PROFESSIONAL, Party.REQUESTING_ORG)
    state = TransferState.DATA_AVAILABLE
    assert permitted_actions(source, transfer, state, PERSON_ACTIONS) == [Action.MARK_TRANSFERRED]
    assert permitted_actions(requester, transfer, state, PERSON_ACTIONS) == [Action.CANCEL]


def test_a_stranger_is_offered_nothing() -> None:
    world = World()
    world.seed_orgs()
    transfer = world.create("t-stranger")
    stranger = actor_for(Role.PATIENT, None)
    assert permitted_actions(stranger, transfer, TransferState.RISK_ACCEPTED, PERSON_ACTIONS) == []
