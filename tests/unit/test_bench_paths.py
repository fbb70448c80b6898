"""The pipeline bench times each transfer's own path and refuses impossible figures."""

import asyncio

import pytest

from curex.bench.paths import EMERGENCY_PATH, ImpossibleFigure, measure_paths
from curex.bench.pipeline import offer_at_rate
from curex.bench.workload import new_world
from schemas import CreateTransfer, TransferState

S = TransferState


def _path_at(*instants: float) -> dict[TransferState, float]:
    return dict(zip(EMERGENCY_PATH, instants, strict=False))


def test_each_state_is_timed_from_the_publish_and_from_its_cause() -> None:
    paths = measure_paths({"t1": 10.0}, {"t1": _path_at(10.02, 10.05, 10.06, 10.10)})

    assert paths.completed == 1
    end_to_end = paths.end_to_end[S.DATA_AVAILABLE]
    step = paths.step[S.RISK_ACCEPTED]
    assert end_to_end is not None
    assert end_to_end.max == pytest.approx(0.10)
    assert step is not None
    assert step.max == pytest.approx(0.03)
    assert paths.committed_transitions == 4
    assert paths.transitions_per_s == pytest.approx(4 / 0.10)


def test_a_state_committed_before_its_publish_aborts_the_run() -> None:
    # What the bench once printed as a negative latency: an event of an earlier phase's
    # transfer with the same id, matched to this phase's publish.
    with pytest.raises(ImpossibleFigure, match="INITIALISED"):
        measure_paths({"t1": 10.0}, {"t1": _path_at(5.0, 10.1, 10.2, 10.3)})


def test_a_state_committed_before_the_state_that_caused_it_aborts_the_run() -> None:
    with pytest.raises(ImpossibleFigure, match="RISK_ACCEPTED"):
        measure_paths({"t1": 10.0}, {"t1": _path_at(10.2, 10.1, 10.3, 10.4)})


def test_a_transfer_that_stops_half_way_is_incomplete_and_counts_what_it_committed() -> None:
    paths = measure_paths(
        {"done": 1.0, "stuck": 1.0},
        {"done": _path_at(1.1, 1.2, 1.3, 1.4), "stuck": _path_at(1.1, 1.2)},
    )

    assert (paths.completed, paths.offered) == (2 - 1, 2)
    assert paths.committed_transitions == 6
    assert paths.last_commit == pytest.approx(1.4)


class _Publisher:
    def __init__(self) -> None:
        self.sent: list[CreateTransfer] = []

    async def publish(self, command: CreateTransfer) -> asyncio.Future[None]:
        self.sent.append(command)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_no_two_phases_of_a_run_offer_the_same_transfer_id() -> None:
    publisher = _Publisher()
    world = new_world(b"k" * 32)

    warm_up = await offer_at_rate(publisher, world, "warm", 1000, 0.005, 5)  # type: ignore[arg-type]
    measured = await offer_at_rate(publisher, world, "rate0", 1000, 0.005, 5)  # type: ignore[arg-type]

    assert warm_up.published_at
    assert measured.published_at
    assert not set(warm_up.published_at) & set(measured.published_at)
