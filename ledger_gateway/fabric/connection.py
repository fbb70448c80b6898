"""How the gateway reaches one member organisation of the Fabric network: its peer and the
client identity it signs with, as given in its settings (``CUREX_FABRIC_CONNECTIONS``)."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class FabricConnection(BaseModel):
    """One member organisation's peer and client identity files."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    msp_id: str
    # host:port of the org's peer, whose gateway service the client calls.
    peer_endpoint: str
    # The org's TLS CA: verifies the peer's TLS certificate.
    tls_root_cert: Path
    # The name in the peer's TLS certificate.
    tls_server_name: str
    # The client identity: certificate and private key (PEM).
    signcert: Path
    private_key: Path
