"""`curex bench ledger` runs end to end on a tiny workload and prints every figure."""

import re

import pytest
from typer.testing import CliRunner

from curex.bench.ledger import BARE, EMBEDDED, FABRIC
from curex.bench.ledger_report import COLUMNS
from curex.cli import app
from infra.settings import InfraSettings
from infra.testing import ensure_stack

pytestmark = pytest.mark.integration

CELL = r"[\s│┃|]+-?[0-9][0-9,.]*"  # the cell separator(s), then a figure
TINY = ["bench", "ledger", "--transactions", "40", "--concurrency", "8", "--warmup", "4"]


def _figures_of(label: str, output: str) -> None:
    assert re.search(re.escape(label) + CELL * len(COLUMNS), output), (
        f"not {len(COLUMNS)} numbers for {label!r} in:\n{output}"
    )


@pytest.mark.ledger("fabric")
def test_bench_ledger_prints_embedded_fabric_and_the_bare_client_with_the_ratio() -> None:
    ensure_stack([f"fabric-peer-{org.slug}" for org in InfraSettings().fabric_orgs])

    result = CliRunner().invoke(app, TINY, env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    for label in (EMBEDDED, FABRIC, BARE):
        _figures_of(label, result.output)
    assert re.search(r"bare Gateway client tx/s" + CELL, result.output)
    assert re.search(r"CPU per committed tx, every process \(ms\)" + CELL, result.output)
    assert len(re.findall(r"all processes" + CELL, result.output)) == 3


@pytest.mark.ledger("embedded")
def test_bench_ledger_without_fabric_measures_the_embedded_ledger_alone() -> None:
    result = CliRunner().invoke(app, [*TINY, "--no-fabric"], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    _figures_of(EMBEDDED, result.output)
    assert FABRIC not in result.output
    assert re.search(r"all tables and indexes" + CELL, result.output)
    assert re.search(r"baseline: the same as plain documents" + CELL, result.output)
