"""How long-running steps report what they are doing, without tying infra to a UI."""

from typing import Protocol


class ProgressReporter(Protocol):
    """Receives the steps of `up`; the CLI draws them, tests ignore them."""

    def stage(self, description: str) -> None:
        """A new step began (the previous one is done)."""

    def tick(self, detail: str) -> None:
        """One more unit of the current step is done (for example, one jar downloaded)."""


class SilentProgress:
    """Reports nothing: for tests and scripts."""

    def stage(self, description: str) -> None:
        pass

    def tick(self, detail: str) -> None:
        pass
