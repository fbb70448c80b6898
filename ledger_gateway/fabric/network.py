"""The Fabric members the gateway talks to, built from their connection settings."""

from collections.abc import Iterable

from ledger_gateway.fabric.connection import FabricConnection
from ledger_gateway.fabric.gateway_client import PeerEndpoint
from ledger_gateway.fabric.identity import SigningIdentity
from ledger_gateway.fabric.ledger import FabricMember


def member(connection: FabricConnection) -> FabricMember:
    return FabricMember(
        SigningIdentity.from_files(connection.msp_id, connection.signcert, connection.private_key),
        PeerEndpoint(
            connection.peer_endpoint,
            connection.tls_root_cert.read_bytes(),
            connection.tls_server_name,
        ),
    )


def members(connections: Iterable[FabricConnection]) -> list[FabricMember]:
    return [member(connection) for connection in connections]
