"""Starting the real services for tests through the same path as `curex up`."""

from collections.abc import Sequence

from infra.progress import SilentProgress
from infra.settings import InfraSettings, LedgerKind
from infra.stack import start_named


def ensure_stack(
    services: Sequence[str],
    settings: InfraSettings | None = None,
    ledger: LedgerKind | None = None,
) -> InfraSettings:
    """Starts `services` (and what they depend on), reusing running ones; returns the settings.

    `ledger` overrides the settings' ledger kind (CUREX_LEDGER), as `curex up --ledger` does.
    """
    settings = settings if settings is not None else InfraSettings()
    if ledger is not None:
        settings = settings.model_copy(update={"ledger": ledger})
    start_named(settings, list(services), SilentProgress())
    return settings
