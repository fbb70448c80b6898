"""Draws the steps of `curex up` as rich progress lines."""

from types import TracebackType

from rich.console import Console
from rich.progress import (
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class RichProgressReporter:
    """One line per stage with a spinner, a counter of ticks (jars downloaded) and elapsed time."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(finished_text="[green]✓[/]"),
            TextColumn("{task.description}"),
            TextColumn("[cyan]{task.fields[counter]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None
        self._ticks = 0

    def __enter__(self) -> "RichProgressReporter":
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            self._finish_current()
        elif self._task is not None:
            self._progress.update(self._task, counter="[red]failed")
        self._progress.stop()

    def stage(self, description: str) -> None:
        self._finish_current()
        self._ticks = 0
        self._task = self._progress.add_task(description, total=None, counter="")

    def tick(self, detail: str) -> None:
        if self._task is None:
            return
        self._ticks += 1
        self._progress.update(self._task, counter=f"{self._ticks} downloaded · {detail}")

    def _finish_current(self) -> None:
        if self._task is not None:
            counter = f"{self._ticks} downloaded" if self._ticks else ""
            self._progress.update(self._task, total=1, completed=1, counter=counter)
            self._task = None
