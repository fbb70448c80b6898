"""How the orderer, the peers and the chaincode servers are launched, and probed.

The orderer and the peers read Fabric's sample `orderer.yaml`/`core.yaml` from
FABRIC_CFG_PATH; every setting that matters here is overridden by environment variable
(ORDERER_*, CORE_*): addresses on the configured host, TLS on, files under
`<data_dir>/fabric/`, no Docker (chaincode runs as a service, found through our external
builder), operations endpoints serving /healthz.
"""

import json
import sys
from pathlib import Path

from grpclib.client import Channel
from grpclib.health.v1.health_grpc import HealthStub
from grpclib.health.v1.health_pb2 import HealthCheckRequest, HealthCheckResponse

from infra.errors import Unhealthy
from infra.fabric.commands import fabric_binary
from infra.fabric.network import (
    CHANNEL,
    ORDERER_MSP_ID,
    chaincode_address,
    fabric_config_dir,
    orderer_admin_endpoint,
    orderer_data_dir,
    orderer_node_dir,
    orderer_tls_ca,
    peer_data_dir,
    peer_endpoint,
    peer_host_name,
    peer_node_dir,
)
from infra.fabric.package import chaincode_package
from infra.health import HealthProbe, http_ok
from infra.settings import FabricOrg, InfraSettings

BUILDER_DIR = Path(__file__).with_name("builder")
BUILDER_NAME = "curex-ccaas"
# Info, but not one line per gRPC call, endorsement or submitted transaction: at hundreds
# of transactions per second those lines would cost more CPU than the work they describe.
# The orderer warns of every Broadcast stream a gateway closes; rejections reach the client.
_PEER_LOGGING_SPEC = "info:comm.grpc.server,endorser,gateway=warning"
_ORDERER_LOGGING_SPEC = "info:comm.grpc.server=warning:orderer.common.broadcast=error"
# Fabric's default format, without the terminal colour codes.
_LOGGING_FORMAT = (
    "%{time:2006-01-02 15:04:05.000 MST} [%{module}] %{shortfunc} -> %{level:.4s} %{message}"
)
# Clients may ping this often (gRPC keepalive) without the server closing the connection.
_KEEPALIVE_MIN_INTERVAL = "10s"


def _base_env(settings: InfraSettings, logging_spec: str) -> dict[str, str]:
    return {
        "FABRIC_CFG_PATH": str(fabric_config_dir(settings)),
        "FABRIC_LOGGING_SPEC": logging_spec,
        "FABRIC_LOGGING_FORMAT": _LOGGING_FORMAT,
    }


def orderer_command(settings: InfraSettings) -> list[str]:
    return [str(fabric_binary(settings, "orderer"))]


def orderer_env(settings: InfraSettings) -> dict[str, str]:
    tls = orderer_node_dir(settings) / "tls"
    data = orderer_data_dir(settings)
    tls_ca = f"[{orderer_tls_ca(settings)}]"
    return {
        **_base_env(settings, _ORDERER_LOGGING_SPEC),
        "ORDERER_GENERAL_LISTENADDRESS": settings.fabric_host,
        "ORDERER_GENERAL_LISTENPORT": str(settings.fabric_orderer_port),
        "ORDERER_GENERAL_LOCALMSPID": ORDERER_MSP_ID,
        "ORDERER_GENERAL_LOCALMSPDIR": str(orderer_node_dir(settings) / "msp"),
        "ORDERER_GENERAL_TLS_ENABLED": "true",
        "ORDERER_GENERAL_TLS_PRIVATEKEY": str(tls / "server.key"),
        "ORDERER_GENERAL_TLS_CERTIFICATE": str(tls / "server.crt"),
        "ORDERER_GENERAL_TLS_ROOTCAS": f"[{tls / 'ca.crt'}]",
        "ORDERER_GENERAL_KEEPALIVE_SERVERMININTERVAL": _KEEPALIVE_MIN_INTERVAL,
        # Raft traffic shares the TLS listener; the node's TLS pair is its cluster identity.
        "ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE": str(tls / "server.crt"),
        "ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY": str(tls / "server.key"),
        "ORDERER_GENERAL_CLUSTER_ROOTCAS": f"[{tls / 'ca.crt'}]",
        # No system channel: channels are joined through the channel participation API.
        "ORDERER_GENERAL_BOOTSTRAPMETHOD": "none",
        "ORDERER_CHANNELPARTICIPATION_ENABLED": "true",
        "ORDERER_ADMIN_LISTENADDRESS": orderer_admin_endpoint(settings),
        "ORDERER_ADMIN_TLS_ENABLED": "true",
        "ORDERER_ADMIN_TLS_PRIVATEKEY": str(tls / "server.key"),
        "ORDERER_ADMIN_TLS_CERTIFICATE": str(tls / "server.crt"),
        "ORDERER_ADMIN_TLS_ROOTCAS": f"[{tls / 'ca.crt'}]",
        "ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED": "true",
        "ORDERER_ADMIN_TLS_CLIENTROOTCAS": tls_ca,
        "ORDERER_OPERATIONS_LISTENADDRESS": (
            f"{settings.fabric_host}:{settings.fabric_orderer_operations_port}"
        ),
        # Prometheus metrics at /metrics: the setup waits on the Raft leader metric.
        "ORDERER_METRICS_PROVIDER": "prometheus",
        "ORDERER_FILELEDGER_LOCATION": str(data / "ledger"),
        "ORDERER_CONSENSUS_WALDIR": str(data / "etcdraft" / "wal"),
        "ORDERER_CONSENSUS_SNAPDIR": str(data / "etcdraft" / "snapshot"),
    }


def peer_command(settings: InfraSettings) -> list[str]:
    return [str(fabric_binary(settings, "peer")), "node", "start"]


def _external_builders() -> str:
    return json.dumps([{"name": BUILDER_NAME, "path": str(BUILDER_DIR)}])


def peer_env(settings: InfraSettings, org: FabricOrg) -> dict[str, str]:
    node = peer_node_dir(settings, org)
    data = peer_data_dir(settings, org)
    address = peer_endpoint(settings, org)
    host = settings.fabric_host
    return {
        **_base_env(settings, _PEER_LOGGING_SPEC),
        # The builder's scripts run `python3` from PATH: the project's interpreter first.
        "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "CORE_PEER_ID": peer_host_name(org),
        "CORE_PEER_NETWORKID": CHANNEL,
        "CORE_PEER_LISTENADDRESS": address,
        "CORE_PEER_ADDRESS": address,
        "CORE_PEER_CHAINCODELISTENADDRESS": f"{host}:{org.peer_chaincode_port}",
        "CORE_PEER_CHAINCODEADDRESS": f"{host}:{org.peer_chaincode_port}",
        "CORE_PEER_LOCALMSPID": org.msp_id,
        "CORE_PEER_MSPCONFIGPATH": str(node / "msp"),
        "CORE_PEER_FILESYSTEMPATH": str(data),
        "CORE_LEDGER_SNAPSHOTS_ROOTDIR": str(data / "snapshots"),
        "CORE_PEER_TLS_ENABLED": "true",
        "CORE_PEER_TLS_CERT_FILE": str(node / "tls" / "server.crt"),
        "CORE_PEER_TLS_KEY_FILE": str(node / "tls" / "server.key"),
        "CORE_PEER_TLS_ROOTCERT_FILE": str(node / "tls" / "ca.crt"),
        # Gossip: the peer is its org's only member and its leader; the other org's peer
        # is found through the anchor peers in the channel config.
        "CORE_PEER_GOSSIP_BOOTSTRAP": address,
        "CORE_PEER_GOSSIP_ENDPOINT": address,
        "CORE_PEER_GOSSIP_EXTERNALENDPOINT": address,
        "CORE_PEER_GOSSIP_USELEADERELECTION": "false",
        "CORE_PEER_GOSSIP_ORGLEADER": "true",
        # Shorter than the defaults (5s, 25s, 25s; 4s, 4s, 5s), so a peer that (re)starts
        # or joins is in the other's channel view (its gateway's endorsers) within seconds,
        # and a stopped one leaves it within seconds: two peers on loopback.
        "CORE_PEER_GOSSIP_ALIVETIMEINTERVAL": "2s",
        "CORE_PEER_GOSSIP_ALIVEEXPIRATIONTIMEOUT": "10s",
        "CORE_PEER_GOSSIP_RECONNECTINTERVAL": "2s",
        "CORE_PEER_GOSSIP_PUBLISHSTATEINFOINTERVAL": "1s",
        "CORE_PEER_GOSSIP_REQUESTSTATEINFOINTERVAL": "1s",
        "CORE_PEER_GOSSIP_MEMBERSHIPTRACKERINTERVAL": "1s",
        "CORE_PEER_GATEWAY_ENABLED": "true",
        "CORE_PEER_KEEPALIVE_MININTERVAL": _KEEPALIVE_MIN_INTERVAL,
        "CORE_PEER_KEEPALIVE_CLIENT_INTERVAL": "60s",
        "CORE_PEER_KEEPALIVE_CLIENT_TIMEOUT": "20s",
        "CORE_OPERATIONS_LISTENADDRESS": f"{host}:{org.peer_operations_port}",
        # Prometheus metrics at /metrics: the setup waits on the gossip membership metric.
        "CORE_METRICS_PROVIDER": "prometheus",
        # No Docker (core.yaml's vm.endpoint is blank): chaincode runs as a service, which
        # our external builder points the peer at.
        "CORE_CHAINCODE_EXTERNALBUILDERS": _external_builders(),
    }


def chaincode_env(settings: InfraSettings, org: FabricOrg) -> dict[str, str]:
    """What `python -m ledger_gateway.fabric.chaincode` needs beyond the project's env."""
    return {
        "CUREX_CHAINCODE_ID": chaincode_package(settings, org).package_id,
        "CUREX_CHAINCODE_ADDRESS": chaincode_address(settings, org),
        "CUREX_NETWORK": settings.network.to_env(),
    }


def operations_health(host: str, port: int) -> HealthProbe:
    """Fabric's operations endpoint answers /healthz with 200 once its checks pass."""
    return http_ok(f"http://{host}:{port}/healthz")


def grpc_serving(host: str, port: int, service: str) -> HealthProbe:
    """A probe that asks the gRPC health protocol whether ``service`` is SERVING."""

    async def probe() -> None:
        channel = Channel(host, port)
        try:
            answer = await HealthStub(channel).Check(HealthCheckRequest(service=service))
        finally:
            channel.close()
        if answer is None or answer.status != HealthCheckResponse.SERVING:
            status = (
                "no answer"
                if answer is None
                else HealthCheckResponse.ServingStatus.Name(answer.status)
            )
            raise Unhealthy(f"{service} at {host}:{port} is {status}")

    return probe
