"""Opening the configured ledger (``CUREX_LEDGER``: embedded or fabric) behind the port."""

import contextlib

from ledger_gateway.embedded import EmbeddedLedgerPort
from ledger_gateway.fabric.ledger import FabricLedger
from ledger_gateway.fabric.network import members
from ledger_gateway.port import Ledger
from ledger_gateway.settings import GatewaySettings


async def open_ledger(settings: GatewaySettings, stack: contextlib.AsyncExitStack) -> Ledger:
    """A ledger connection, closed with ``stack``; one per concurrent user."""
    if settings.ledger == "fabric":
        fabric = open_fabric_ledger(settings)
        stack.push_async_callback(fabric.close)
        return fabric
    port = EmbeddedLedgerPort.open(settings.ledger_path)
    stack.callback(port.close)
    return port


def open_fabric_ledger(settings: GatewaySettings) -> FabricLedger:
    """Signs each command as the actor's organisation (or its host); reads as this instance's.

    Call inside the event loop: the gateway connections bind to it.
    """
    if not settings.fabric_connections:
        raise ValueError("CUREX_FABRIC_CONNECTIONS names no Fabric member to connect to")
    return FabricLedger.connect(
        members(settings.fabric_connections),
        channel=settings.fabric_channel,
        reader_org=settings.gateway_org,
    )
