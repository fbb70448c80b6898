"""Every state x every action x every role/party: the table's move or the right rejection."""

import itertools

import pytest

from ledger_gateway.chaincode import ContractError
from schemas import REVIEW_ACTIONS, Action, Party, Role, TransferState, rule_for
from tests.unit.contract_world import World, actor_for

STATES: list[TransferState | None] = [None, *TransferState]
PARTIES: list[Party | None] = [None, *Party]


def expected_outcome(
    state: TransferState | None, action: Action, role: Role, party: Party | None
) -> str | TransferState:
    """The outcome the table demands, written independently of the contract's code."""
    if state is None and action is not Action.CREATE:
        return "UNKNOWN_TRANSFER"
    if state is not None and action is Action.CREATE:
        return "TRANSFER_EXISTS"
    rule = rule_for(state, action)
    if rule is None:
        return "ILLEGAL_TRANSITION"
    if role not in rule.roles:
        return "ROLE_NOT_ALLOWED"
    if action is Action.CREATE:
        # Whoever creates is the requesting side; creating "for" the source org is invalid.
        return "INVALID_ARGUMENT" if party is Party.SOURCE_ORG else rule.next_state
    relation = {party} if party is not None else set()
    if not relation & rule.parties:
        return "NOT_A_PARTY"
    return rule.next_state


CASES = [
    (state, action, role, party)
    # Review steps change no state and have transactions of their own (test_contract_reviews).
    for state, action, role, party in itertools.product(
        STATES, [a for a in Action if a not in REVIEW_ACTIONS], Role, PARTIES
    )
    # A patient relates to a transfer only as its patient; orgs never as the patient.
    if (role is Role.PATIENT) == (party in (Party.PATIENT, None)) or party is None
]


@pytest.mark.parametrize(("state", "action", "role", "party"), CASES)
def test_every_state_action_and_actor_gets_the_tables_outcome(
    state: TransferState | None, action: Action, role: Role, party: Party | None
) -> None:
    world = World()
    world.seed_orgs(cyber=10 if action is Action.REJECT_RISK else 90)
    transfer_id = "transfer-matrix"
    if state is not None:
        world.create(transfer_id)
        world.force_state(transfer_id, state, emergency=True, deadline_passed=True)
    history_before = len(world.contract.history(transfer_id))
    expected = expected_outcome(state, action, role, party)

    try:
        result = world.act(transfer_id, action, actor_for(role, party))
    except ContractError as error:
        assert error.code == expected, error.reason
        after = world.contract.transfer(transfer_id)
        assert (after.state if after else None) == state
        assert len(world.contract.history(transfer_id)) == history_before
        return
    assert result.transfer is not None
    assert result.transfer.state == expected
    assert result.transfer.last_transition.from_state == state
    assert len(world.contract.history(transfer_id)) == history_before + 1


def test_matrix_covers_every_state_action_role_and_party() -> None:
    assert {c[0] for c in CASES} == set(STATES)
    assert {c[1] for c in CASES} == set(Action) - REVIEW_ACTIONS
    assert {c[2] for c in CASES} == set(Role)
    assert {c[3] for c in CASES} == set(PARTIES)
