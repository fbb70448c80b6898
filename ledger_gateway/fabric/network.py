"""The Fabric peers and the one client identity a gateway uses, from its connection settings."""

from collections.abc import Iterable

from ledger_gateway.fabric.connection import FabricConnection
from ledger_gateway.fabric.gateway_client import PeerEndpoint
from ledger_gateway.fabric.identity import SigningIdentity
from ledger_gateway.fabric.ledger import FabricPeer


class NoOwnIdentity(ValueError):
    pass


def peer(connection: FabricConnection) -> FabricPeer:
    return FabricPeer(
        connection.msp_id,
        PeerEndpoint(
            connection.peer_endpoint,
            connection.tls_root_cert.read_bytes(),
            connection.tls_server_name,
        ),
    )


def peers(connections: Iterable[FabricConnection]) -> list[FabricPeer]:
    return [peer(connection) for connection in connections]


def own_identity(connections: Iterable[FabricConnection], org: str) -> SigningIdentity:
    """``org``'s client identity; refuses settings that hand over another org's key."""
    with_keys = [c for c in connections if c.signcert is not None or c.private_key is not None]
    foreign = sorted(c.msp_id for c in with_keys if c.msp_id != org)
    if foreign:
        raise NoOwnIdentity(f"the gateway of {org} was given the identity of {', '.join(foreign)}")
    own = next((c for c in with_keys if c.msp_id == org), None)
    if own is None or own.signcert is None or own.private_key is None:
        raise NoOwnIdentity(f"no client certificate and key of {org} in CUREX_FABRIC_CONNECTIONS")
    return SigningIdentity.from_files(org, own.signcert, own.private_key)
