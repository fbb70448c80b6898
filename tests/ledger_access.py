"""Reading the stack's ledger (embedded or Fabric, as the stack runs it) from a test."""

import contextlib
from collections.abc import AsyncIterator

from infra.fabric.network import CHANNEL, gateway_connections
from infra.settings import InfraSettings
from ledger_gateway.fabric.ledger import FabricLedger
from ledger_gateway.fabric.network import members
from ledger_gateway.ledgers import open_ledger
from ledger_gateway.port import Ledger
from ledger_gateway.settings import GatewaySettings


def open_fabric_ledger(stack: InfraSettings, max_in_flight: int = 64) -> FabricLedger:
    """A ``FabricLedger`` on the stack's network; call inside the event loop, close after."""
    return FabricLedger.connect(
        members(gateway_connections(stack)), channel=CHANNEL, max_in_flight=max_in_flight
    )


@contextlib.asynccontextmanager
async def stack_ledger(stack: InfraSettings) -> AsyncIterator[Ledger]:
    fabric = stack.ledger == "fabric"
    settings = GatewaySettings(
        ledger=stack.ledger,
        data_dir=stack.data_dir,
        fabric_connections=tuple(gateway_connections(stack)) if fabric else (),
    )
    async with contextlib.AsyncExitStack() as resources:
        yield await open_ledger(settings, resources)
