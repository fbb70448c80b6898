"""Starting the real services for tests through the same path as `curex up`."""

from collections.abc import Sequence

from infra.progress import SilentProgress
from infra.settings import InfraSettings
from infra.stack import start_named


def ensure_stack(services: Sequence[str], settings: InfraSettings | None = None) -> InfraSettings:
    """Starts `services` (and what they depend on), reusing running ones; returns the settings."""
    settings = settings if settings is not None else InfraSettings()
    start_named(settings, list(services), SilentProgress())
    return settings
