"""The read-model lag p99 of a bench phase, from the histogram's buckets before and after."""

import math

from curex.bench.read_lag import p99_bound


def test_the_p99_is_the_edge_under_which_99_percent_of_the_phase_fell() -> None:
    before = {0.1: 50.0, 0.5: 60.0, 1.0: 60.0, math.inf: 60.0}
    after = {0.1: 140.0, 0.5: 158.0, 1.0: 160.0, math.inf: 160.0}
    assert p99_bound(before, after) == 1.0  # 99 of the phase's 100 needed the 1 s bucket
    assert p99_bound(before, {**after, 0.5: 159.0}) == 0.5


def test_a_phase_that_projected_nothing_has_no_lag() -> None:
    same = {0.1: 5.0, math.inf: 5.0}
    assert p99_bound(same, same) is None
