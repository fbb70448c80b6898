"""`curex bench pipeline` runs end to end on a tiny workload and prints every figure."""

import re

import pytest
from typer.testing import CliRunner

from curex.bench.report import FIGURE_LABELS
from curex.cli import app
from infra.testing import ensure_stack

pytestmark = pytest.mark.integration

TINY = [
    "bench",
    "pipeline",
    "--rate",
    "20",
    "--duration",
    "1",
    "--saturation-count",
    "50",
    "--warmup",
    "0.5",
    "--warmup-max",
    "0.5",
]


def test_bench_pipeline_prints_a_number_for_every_figure() -> None:
    ensure_stack([])

    result = CliRunner().invoke(app, TINY, env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    for label in FIGURE_LABELS:
        # The label's cell, then the cell separator(s), then a figure starting with a digit.
        assert re.search(re.escape(label) + r"[\s│┃|]+[0-9]", result.output), (
            f"no number for {label!r} in:\n{result.output}"
        )
    assert "n/a" not in result.output
