"""The web applications in headless Chromium against the live stack.

The journeys are Playwright scripts (``frontends/browser-tests``, page objects, an axe-core
check and a screenshot per screen); this module runs them once with node and reports each.
"""

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from curex.block_watch import BlockWatcher
from curex.demo import seed_demo_organisations
from infra.settings import InfraSettings
from producers.publisher import CommandPublisher

pytestmark = [pytest.mark.integration, pytest.mark.ledger("embedded")]

FRONTENDS = Path(__file__).resolve().parents[2] / "frontends"
ARTIFACTS = FRONTENDS / "browser-tests" / "artifacts"
CHROMIUM = os.environ.get("CUREX_CHROMIUM", "/usr/bin/chromium")
RUN_TIMEOUT_S = 480


@pytest.fixture(scope="module")
async def journeys(
    stack: InfraSettings, publisher: CommandPublisher, watcher: BlockWatcher
) -> dict[str, Any]:
    """Each journey's outcome: passed, failed (with why) or skipped (with why)."""
    for needed, how in (
        (FRONTENDS / "dist" / "hpa" / "index.html", "run `make setup` to build the front ends"),
        (FRONTENDS / "node_modules" / "playwright-core", "run `make setup` (npm ci)"),
        (Path(CHROMIUM), "install Debian's chromium (`make setup` does it as root)"),
    ):
        assert needed.exists(), f"{needed} is missing: {how}"
    # The demo organisations' policies and scores, so the risk audit lets transfers pass.
    await seed_demo_organisations(publisher, watcher)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    node = await asyncio.create_subprocess_exec(
        "node",
        "browser-tests/run.mjs",
        cwd=FRONTENDS,
        env={
            **os.environ,
            "CUREX_WEB_BASE": f"http://127.0.0.1:{stack.api_port}",
            "CUREX_BROWSER_ARTIFACTS": str(ARTIFACTS),
            "CUREX_CHROMIUM": CHROMIUM,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(node.communicate(), RUN_TIMEOUT_S)
    results = ARTIFACTS / "results.json"
    assert results.exists(), f"the browser run wrote no results:\n{output.decode()[-4000:]}"
    outcomes: dict[str, Any] = json.loads(results.read_text())
    return outcomes


def _outcome(journeys: dict[str, Any], name: str) -> None:
    outcome = journeys[name]
    if outcome["status"] == "skipped":
        pytest.skip(outcome["reason"])
    assert outcome["status"] == "passed", (
        f"{name} failed (screenshots in {outcome['screenshots']}):\n{outcome['reason']}"
    )


def test_request_grant_send_receive_close_shows_every_state_live(journeys: dict[str, Any]) -> None:
    _outcome(journeys, "reference_scenario")


def test_emergency_needs_its_justification_and_records_the_legal_basis(
    journeys: dict[str, Any],
) -> None:
    _outcome(journeys, "emergency_path")


def test_a_refusal_shows_on_both_sides_and_leaves_nothing_to_do(journeys: dict[str, Any]) -> None:
    _outcome(journeys, "refusal")


def test_a_patient_on_a_phone_revokes_and_reads_the_whole_history(
    journeys: dict[str, Any],
) -> None:
    _outcome(journeys, "revocation_on_phone")


def test_spanish_applies_at_once_and_survives_a_reload(journeys: dict[str, Any]) -> None:
    _outcome(journeys, "spanish_survives_reload")


def test_a_patient_cannot_see_another_patients_transfer(journeys: dict[str, Any]) -> None:
    _outcome(journeys, "another_patients_transfer")


def test_conflict_expired_session_rate_limit_and_outage_are_told_clearly(
    journeys: dict[str, Any],
) -> None:
    _outcome(journeys, "error_states")


def test_the_ops_console_numbers_move_while_transfers_run(journeys: dict[str, Any]) -> None:
    _outcome(journeys, "ops_console")


def test_each_app_loads_in_under_a_second_and_its_welcome_is_accessible(
    journeys: dict[str, Any],
) -> None:
    _outcome(journeys, "pages_load_fast")


def test_the_patient_app_shows_what_changed_while_it_was_closed(journeys: dict[str, Any]) -> None:
    _outcome(journeys, "missed_while_away")


def test_a_wrong_current_password_is_refused_and_said_so(journeys: dict[str, Any]) -> None:
    _outcome(journeys, "profile_and_password")


def test_tokens_are_renewed_in_the_background_without_a_prompt(journeys: dict[str, Any]) -> None:
    _outcome(journeys, "silent_renewal")


def test_the_organisations_list_pages_with_its_cursor(journeys: dict[str, Any]) -> None:
    _outcome(journeys, "list_pages")


def test_the_officer_judges_an_emergency_access_in_the_ops_console(
    journeys: dict[str, Any],
) -> None:
    _outcome(journeys, "officer_review")
