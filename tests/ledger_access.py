"""Reading the stack's ledger (embedded or Fabric, as the stack runs it) from a test."""

import contextlib
from collections.abc import AsyncIterator

from curex.org_ledgers import FabricOrgLedgers, OrgLedgers
from infra.fabric.network import CHANNEL
from infra.ledger_keys import members_file, signing_key_path
from infra.settings import InfraSettings
from ledger_gateway.embedded import EmbeddedLedger, EmbeddedLedgerPort
from ledger_gateway.embedded.signing import CommandSigner, Membership
from ledger_gateway.port import Ledger


def open_fabric_ledger(stack: InfraSettings, max_in_flight: int = 64) -> FabricOrgLedgers:
    """Each member's ``FabricLedger`` on the stack's network, as its gateway signs; call
    inside the event loop, close after."""
    return FabricOrgLedgers.connect(stack, CHANNEL, max_in_flight)


@contextlib.asynccontextmanager
async def stack_ledger(stack: InfraSettings) -> AsyncIterator[Ledger]:
    """The stack's ledger, signing as each member's gateway does."""
    if stack.ledger == "fabric":
        fabric = open_fabric_ledger(stack)
        try:
            yield fabric
        finally:
            await fabric.close()
        return
    network = stack.network
    membership = Membership.from_file(members_file(stack))
    path = stack.data_dir / "ledger" / "embedded.sqlite"
    ports = {
        org: EmbeddedLedgerPort(
            EmbeddedLedger(path, network, membership),
            CommandSigner.from_file(org, signing_key_path(stack, org)),
        )
        for org in network.members
    }
    try:
        yield OrgLedgers(ports, network)
    finally:
        for port in ports.values():
            port.close()
