"""The local Fabric network's members, as infra/ lays out their peers and identities."""

from infra.fabric_network import CLIENT_USER, FabricConnection, gateway_connection
from infra.settings import InfraSettings
from ledger_gateway.fabric.gateway_client import PeerEndpoint
from ledger_gateway.fabric.identity import SigningIdentity
from ledger_gateway.fabric.ledger import FabricLedger, FabricMember


def member(connection: FabricConnection) -> FabricMember:
    return FabricMember(
        SigningIdentity.from_files(connection.msp_id, connection.signcert, connection.private_key),
        PeerEndpoint(
            connection.peer_endpoint,
            connection.tls_root_cert.read_bytes(),
            connection.tls_server_name,
        ),
    )


def fabric_members(settings: InfraSettings, user: str = CLIENT_USER) -> list[FabricMember]:
    """Every member organisation's client ``user`` and peer."""
    return [member(gateway_connection(settings, org.msp_id, user)) for org in settings.fabric_orgs]


def open_fabric_ledger(settings: InfraSettings, max_in_flight: int = 64) -> FabricLedger:
    """A connected ``FabricLedger``; call inside the event loop, ``close()`` it after."""
    connection = gateway_connection(settings, settings.fabric_orgs[0].msp_id)
    return FabricLedger.connect(
        fabric_members(settings),
        channel=connection.channel,
        max_in_flight=max_in_flight,
    )
