"""How the gateway reaches the Fabric network's member peers, as given in its settings
(``CUREX_FABRIC_CONNECTIONS``): every member's peer, and the client identity (certificate
and key) of its own organisation only."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class FabricConnection(BaseModel):
    """One member organisation's peer, and its client identity files if it is the gateway's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    msp_id: str
    # host:port of the org's peer, whose gateway service the client calls.
    peer_endpoint: str
    # The org's TLS CA: verifies the peer's TLS certificate.
    tls_root_cert: Path
    # The name in the peer's TLS certificate.
    tls_server_name: str
    # The client identity: certificate and private key (PEM); only the gateway's own org.
    signcert: Path | None = None
    private_key: Path | None = None
