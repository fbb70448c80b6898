"""Opening the configured ledger (``CUREX_LEDGER``: embedded or fabric) behind the port."""

import contextlib

from ledger_gateway.embedded import EmbeddedLedgerPort
from ledger_gateway.port import Ledger
from ledger_gateway.settings import GatewaySettings


async def open_ledger(settings: GatewaySettings, stack: contextlib.AsyncExitStack) -> Ledger:
    """A ledger connection, closed with ``stack``; one per concurrent user."""
    port = EmbeddedLedgerPort.open(settings.ledger_path)
    stack.callback(port.close)
    return port
