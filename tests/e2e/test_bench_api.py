"""`curex bench api` runs end to end on a tiny workload and prints every figure."""

import re

import pytest
from typer.testing import CliRunner

from curex.bench.api_report import COLUMNS, COMPARISON_LABELS, PHASE_LABELS
from curex.cli import app
from infra.testing import ensure_stack

pytestmark = pytest.mark.integration

TINY = [
    "bench",
    "api",
    "--concurrency",
    "4",
    "--requests",
    "20",
    "--warmup",
    "2",
    "--max-duration",
    "30",
    "--publish-count",
    "50",
]
CELL = r"[\s│┃|]+-?[0-9][0-9,.]*"  # the cell separator(s), then a figure


def test_bench_api_prints_a_number_for_every_figure() -> None:
    ensure_stack([])

    result = CliRunner().invoke(app, TINY, env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    for label in PHASE_LABELS:
        assert re.search(re.escape(label) + CELL * len(COLUMNS), result.output), (
            f"not {len(COLUMNS)} numbers for {label!r} in:\n{result.output}"
        )
    for label in COMPARISON_LABELS:
        assert re.search(re.escape(label) + CELL, result.output), (
            f"no number for {label!r} in:\n{result.output}"
        )
    assert "n/a" not in result.output
