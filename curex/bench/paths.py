"""Each transfer's own path through the ledger, timed state by state.

A transfer's times are its own: the instant just before its create was published and the
instants its block events arrived. Two figures per state of the path:

- end to end: from the transfer's publish to that state's commit;
- step: from what caused the transition (the publish for the first state, the previous
  state's commit for the others) to its commit: the latency of one transition.

A state committed before its cause is impossible; it means events were matched to the
wrong transfer, and the whole run is refused rather than printed.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from curex.bench.errors import BenchError
from curex.bench.latency import Percentiles, percentiles
from schemas import TransferState

S = TransferState
# What an emergency create commits, in order.
EMERGENCY_PATH: tuple[TransferState, ...] = (
    S.INITIALISED,
    S.RISK_ACCEPTED,
    S.EMERGENCY_BYPASS,
    S.DATA_AVAILABLE,
)


class ImpossibleFigure(BenchError):
    """A latency that cannot be: the run's figures are not to be trusted."""


@dataclass(frozen=True, slots=True)
class PathLatencies:
    path: tuple[TransferState, ...]
    end_to_end: dict[TransferState, Percentiles | None]
    step: dict[TransferState, Percentiles | None]
    completed: int  # transfers that committed every state of the path
    offered: int
    first_publish: float
    last_commit: float | None  # the last state of any completed transfer

    @property
    def committed_transitions(self) -> int:
        return sum(p.count for p in self.end_to_end.values() if p is not None)

    @property
    def transitions_per_s(self) -> float | None:
        """Committed transitions of the path, over first publish → last completion."""
        if self.last_commit is None or self.last_commit <= self.first_publish:
            return None
        return self.committed_transitions / (self.last_commit - self.first_publish)

    def worst_step_p99(self) -> float | None:
        figures = [p.p99 for p in self.step.values() if p is not None]
        return max(figures) if len(figures) == len(self.path) else None


def measure_paths(
    published: Mapping[str, float],
    commits: Mapping[str, Mapping[TransferState, float]],
    path: Sequence[TransferState] = EMERGENCY_PATH,
) -> PathLatencies:
    """``published``: transfer → publish instant; ``commits``: transfer → state → first
    arrival of its block event (the same clock)."""
    if not published:
        raise BenchError("no transfer was published")
    end_to_end: dict[TransferState, list[float]] = {state: [] for state in path}
    step: dict[TransferState, list[float]] = {state: [] for state in path}
    completed = 0
    completions: list[float] = []
    for transfer_id, publish in published.items():
        arrivals = commits.get(transfer_id, {})
        cause = publish
        for state in path:
            arrived = arrivals.get(state)
            if arrived is None:
                break
            if arrived < cause:
                raise ImpossibleFigure(
                    f"{transfer_id} committed {state.value} {(cause - arrived) * 1000:.1f} ms "
                    "before what caused it: block events were matched to the wrong transfer"
                )
            end_to_end[state].append(arrived - publish)
            step[state].append(arrived - cause)
            cause = arrived
        else:
            completed += 1
            completions.append(cause)
    return PathLatencies(
        path=tuple(path),
        end_to_end={state: percentiles(end_to_end[state]) for state in path},
        step={state: percentiles(step[state]) for state in path},
        completed=completed,
        offered=len(published),
        first_publish=min(published.values()),
        last_commit=max(completions) if completions else None,
    )
