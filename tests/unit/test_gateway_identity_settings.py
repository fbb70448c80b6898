"""A gateway takes its organisation's client identity only: settings that hand it another
organisation's key, or none of its own, are refused before anything is read."""

from pathlib import Path

import pytest

from ledger_gateway.fabric.connection import FabricConnection
from ledger_gateway.fabric.network import NoOwnIdentity, own_identity


def _connection(org: str, *, with_identity: bool) -> FabricConnection:
    return FabricConnection(
        msp_id=org,
        peer_endpoint="127.0.0.1:7051",
        tls_root_cert=Path("/nonexistent/ca.pem"),
        tls_server_name=f"peer0.{org.lower()}",
        signcert=Path(f"/nonexistent/{org}-cert.pem") if with_identity else None,
        private_key=Path(f"/nonexistent/{org}-key") if with_identity else None,
    )


def test_another_organisations_key_in_the_settings_is_refused() -> None:
    connections = [
        _connection("ES-SERMAS", with_identity=True),
        _connection("SE-KI", with_identity=True),
    ]
    with pytest.raises(NoOwnIdentity, match="identity of ES-SERMAS"):
        own_identity(connections, "SE-KI")


def test_settings_without_the_gateways_own_key_are_refused() -> None:
    connections = [
        _connection("ES-SERMAS", with_identity=False),
        _connection("SE-KI", with_identity=False),
    ]
    with pytest.raises(NoOwnIdentity, match="no client certificate and key of SE-KI"):
        own_identity(connections, "SE-KI")
