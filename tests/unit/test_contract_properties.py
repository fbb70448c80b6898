"""Random command sequences from random actors never leave the transition table."""

import itertools
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_gateway.chaincode import ContractError
from schemas import FINAL_STATES, TRANSITIONS, Action, Party, Role
from tests.unit.contract_world import World, actor_for

steps = st.lists(
    st.tuples(
        st.sampled_from(list(Action)),
        st.sampled_from(list(Role)),
        st.sampled_from([None, *Party]),
        st.booleans(),  # let time pass beyond the consent limit before this step
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(emergency=st.booleans(), good_scores=st.booleans(), sequence=steps)
def test_random_commands_from_random_actors_only_follow_the_table(
    emergency: bool, good_scores: bool, sequence: list[tuple[Action, Role, Party | None, bool]]
) -> None:
    world = World()
    world.seed_orgs(cyber=90 if good_scores else 10, limit_s=60)
    world.create("t-property", emergency=emergency)
    for action, role, party, wait in sequence:
        if wait:
            world.store.now += timedelta(seconds=61)
        before = world.contract.transfer("t-property")
        assert before is not None
        try:
            result = world.act("t-property", action, actor_for(role, party))
        except ContractError:
            after = world.contract.transfer("t-property")
            assert after == before  # a refusal changes nothing
            continue
        assert result.transfer is not None
        assert before.state not in FINAL_STATES
        last = result.transfer.last_transition
        assert (last.from_state, last.action) in TRANSITIONS
        assert TRANSITIONS[(last.from_state, last.action)].next_state is last.to_state

    history = [t for _, t in world.contract.history("t-property")]
    for previous, current in itertools.pairwise(history):
        assert current.from_state is previous.to_state
        assert TRANSITIONS[(current.from_state, current.action)].next_state is current.to_state
