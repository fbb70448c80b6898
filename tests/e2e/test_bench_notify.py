"""`curex bench notify` runs end to end on a tiny workload: recipients get every change of
their transfers, another patient's clients get none of them."""

import re

import pytest
from typer.testing import CliRunner

from curex.cli import app
from infra.testing import ensure_stack

pytestmark = pytest.mark.integration

TINY = ["bench", "notify", "--clients", "12", "--recipients", "3", "--transfers", "2"]
CELL = r"[\s│┃|]+"


def test_bench_notify_delivers_to_the_recipients_and_nothing_to_another_patient() -> None:
    ensure_stack([])

    result = CliRunner().invoke(app, TINY, env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    assert "12 clients, 3 of them the patient whose transfers change, 9 another patient" in (
        result.output
    )
    assert re.search(r"committed → client p99 \(ms\)" + CELL + r"[0-9][0-9,.]*", result.output)
    assert re.search(r"connections held to the end" + CELL + "12 of 12", result.output)
    # Three recipients, two transfers, four changes each.
    assert re.search(r"messages dropped \(of expected\)" + CELL + "0 of 24", result.output)
    assert re.search(r"at another patient's clients" + CELL + "0" + CELL, result.output)
