"""Opening the configured ledger (``CUREX_LEDGER``: embedded or fabric) behind the port."""

import contextlib

from ledger_gateway.embedded import EmbeddedLedgerPort
from ledger_gateway.embedded.recent import RecentCommits
from ledger_gateway.embedded.signing import CommandSigner, Membership
from ledger_gateway.fabric.ledger import FabricLedger
from ledger_gateway.fabric.network import own_identity, peers
from ledger_gateway.port import Ledger
from ledger_gateway.settings import GatewaySettings


async def open_ledger(
    settings: GatewaySettings,
    stack: contextlib.AsyncExitStack,
    *,
    signing: bool = False,
    recent: RecentCommits | None = None,
) -> Ledger:
    """A ledger connection, closed with ``stack``; one per concurrent user. ``signing``: it
    submits, as this gateway's organisation (Fabric always signs its reads too). On the
    embedded ledger, connections given the same ``recent`` hand the writer's commits over."""
    if settings.ledger == "fabric":
        fabric = open_fabric_ledger(settings)
        stack.push_async_callback(fabric.close)
        return fabric
    signer = None
    if signing:
        if settings.gateway_signing_key is None:
            raise ValueError("CUREX_GATEWAY_SIGNING_KEY names no signing key")
        signer = CommandSigner.from_file(settings.gateway_org, settings.gateway_signing_key)
    port = EmbeddedLedgerPort.open(
        settings.ledger_path,
        settings.network,
        Membership.from_file(settings.members_file),
        signer,
        recent,
    )
    stack.callback(port.close)
    return port


def open_fabric_ledger(settings: GatewaySettings) -> FabricLedger:
    """Signs every command, and reads, as this gateway's organisation, through its peer.

    Call inside the event loop: the gateway connections bind to it.
    """
    if not settings.fabric_connections:
        raise ValueError("CUREX_FABRIC_CONNECTIONS names no Fabric member to connect to")
    return FabricLedger.connect(
        own_identity(settings.fabric_connections, settings.gateway_org),
        peers(settings.fabric_connections),
        channel=settings.fabric_channel,
    )
