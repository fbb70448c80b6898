"""The REST action routes come from the transition table: every action a person takes on
an existing transfer has exactly one route, and the create route follows the table's rule."""

import pytest
from fastapi.routing import APIRoute

from producers.api.routes_transfers import ACTION_PATHS, router
from producers.authorization import authorise_create
from producers.errors import BadRequest, WrongRole
from schemas import ACTION_COMMANDS, TRANSITIONS, Action, Actor, Role

PEOPLE = {Role.HEALTH_PROFESSIONAL, Role.PATIENT}
CONSENT_DECISIONS = {Action.GRANT_CONSENT, Action.REFUSE_CONSENT}


def people_actions() -> set[Action]:
    return {
        action
        for (state, action), rule in TRANSITIONS.items()
        if state is not None and rule.roles & PEOPLE
    }


def test_every_action_a_person_takes_has_a_route_and_a_command() -> None:
    assert people_actions() == set(ACTION_PATHS) | CONSENT_DECISIONS
    assert people_actions() <= set(ACTION_COMMANDS)


def test_each_action_route_is_a_post_under_its_transfer() -> None:
    paths = {route.path: route.methods for route in router.routes if isinstance(route, APIRoute)}
    for segment in (*ACTION_PATHS.values(), "consent"):
        assert paths[f"/v1/transfers/{{transfer_id}}/{segment}"] == {"POST"}


def test_an_action_route_describes_who_may_take_it_from_the_table() -> None:
    revoke = next(
        route
        for route in router.routes
        if isinstance(route, APIRoute) and route.path.endswith("/revoke")
    )
    assert "from RISK_ACCEPTED to CONSENT_REVOKED: patient of the patient" in revoke.description


@pytest.mark.parametrize("role", [Role.PATIENT, Role.OPS, Role.SYSTEM])
def test_only_the_roles_of_the_creation_rule_request_transfers(role: Role) -> None:
    with pytest.raises(WrongRole):
        authorise_create(Actor(user_id="someone", org="SE-KI", role=role), "ES-SERMAS")


def test_a_professional_requests_from_another_organisation_only() -> None:
    doctor = Actor(user_id="doctor.ki", org="SE-KI", role=Role.HEALTH_PROFESSIONAL)
    authorise_create(doctor, "ES-SERMAS")
    with pytest.raises(BadRequest):
        authorise_create(doctor, "SE-KI")
