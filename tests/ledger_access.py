"""Reading the stack's ledger (embedded or Fabric, as the stack runs it) from a test."""

import contextlib
from collections.abc import AsyncIterator

from infra.settings import InfraSettings
from ledger_gateway.ledgers import open_ledger
from ledger_gateway.port import Ledger
from ledger_gateway.settings import GatewaySettings


@contextlib.asynccontextmanager
async def stack_ledger(stack: InfraSettings) -> AsyncIterator[Ledger]:
    settings = GatewaySettings(ledger=stack.ledger, data_dir=stack.data_dir)
    async with contextlib.AsyncExitStack() as resources:
        yield await open_ledger(settings, resources)
