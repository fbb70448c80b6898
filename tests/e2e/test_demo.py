"""`curex demo` runs the reference scenario through the REST API and prints the history."""

import io

import pytest
from rich.console import Console

from curex.demo import DemoSettings, run_demo
from infra.settings import InfraSettings

pytestmark = pytest.mark.integration


async def test_demo_closes_a_normal_and_an_emergency_transfer_and_prints_their_history(
    stack: InfraSettings,
) -> None:
    out = io.StringIO()
    await run_demo(DemoSettings(), Console(file=out, width=200))
    printed = out.getvalue()
    assert printed.count("→ CLOSED") == 2
    for state in (
        "INITIALISED",
        "RISK_ACCEPTED",
        "PATIENT_ACCEPTED",
        "EMERGENCY_BYPASS",
        "DATA_AVAILABLE",
        "DATA_TRANSFERRED",
        "DATA_RECEIVED",
        "CLOSED",
    ):
        assert state in printed
    assert "GDPR Art. 6(1)(d), Art. 9(2)(c); flagged for review" in printed
    assert "ES-1000001" not in printed  # the patient appears only as a pseudonym
