"""Where the local Fabric network keeps its files, and what a client needs to reach it.

Everything lives under `<data_dir>/fabric/`: Fabric's config files, the cryptogen
material, the channels' genesis blocks, the chaincode packages and the ledgers of the
orderer and the peers. `gateway_connection` gives a Fabric Gateway client (the ledger
gateway, the bench, the tests) the peer endpoint, TLS and identity files of one organisation.
"""

from pathlib import Path

from infra.settings import FabricOrg, InfraSettings
from ledger_gateway.fabric.connection import FabricConnection

CHANNEL = "curex"
# `curex bench ledger` submits here: the same orderer, peers and chaincode, but nothing of
# the workflow (ledger gateway block events, processors) follows this channel.
BENCH_CHANNEL = "curex-bench"
# Every channel `up` ensures, each with chaincode CHAINCODE_NAME committed.
CHANNELS = (CHANNEL, BENCH_CHANNEL)
CHAINCODE_NAME = "curex-transfer"
ORDERER_MSP_ID = "CurexOrdererMSP"
ORDERER_DOMAIN = "orderer.curex.local"
ORDERER_HOST_NAME = f"orderer.{ORDERER_DOMAIN}"
PEER_NAME = "peer0"
ADMIN = "Admin"
CLIENT_USER = "User1"


def fabric_root(settings: InfraSettings) -> Path:
    return settings.fabric_data_dir


def fabric_config_dir(settings: InfraSettings) -> Path:
    """FABRIC_CFG_PATH of every process and command: core.yaml, orderer.yaml, configtx.yaml."""
    return fabric_root(settings) / "config"


def crypto_dir(settings: InfraSettings) -> Path:
    return fabric_root(settings) / "crypto"


def channel_block(settings: InfraSettings, channel: str = CHANNEL) -> Path:
    """The genesis block of `channel`, which the orderer and the peers join with."""
    return fabric_root(settings) / "channel" / f"{channel}.block"


def packages_dir(settings: InfraSettings) -> Path:
    return fabric_root(settings) / "chaincode"


def orderer_data_dir(settings: InfraSettings) -> Path:
    return fabric_root(settings) / "orderer"


def peer_data_dir(settings: InfraSettings, org: FabricOrg) -> Path:
    return fabric_root(settings) / "peers" / org.slug


def fabric_org(settings: InfraSettings, org_id: str) -> FabricOrg:
    for org in settings.fabric_orgs:
        if org.msp_id == org_id:
            return org
    known = ", ".join(org.msp_id for org in settings.fabric_orgs)
    raise KeyError(f"no Fabric organisation {org_id!r}; known: {known}")


def orderer_endpoint(settings: InfraSettings) -> str:
    return f"{settings.fabric_host}:{settings.fabric_orderer_port}"


def orderer_admin_endpoint(settings: InfraSettings) -> str:
    return f"{settings.fabric_host}:{settings.fabric_orderer_admin_port}"


def peer_endpoint(settings: InfraSettings, org: FabricOrg) -> str:
    return f"{settings.fabric_host}:{org.peer_port}"


def chaincode_address(settings: InfraSettings, org: FabricOrg) -> str:
    return f"{settings.fabric_host}:{org.chaincode_port}"


def peer_host_name(org: FabricOrg) -> str:
    return f"{PEER_NAME}.{org.domain}"


# --- the orderer org's material ---


def orderer_org_dir(settings: InfraSettings) -> Path:
    return crypto_dir(settings) / "ordererOrganizations" / ORDERER_DOMAIN


def orderer_node_dir(settings: InfraSettings) -> Path:
    return orderer_org_dir(settings) / "orderers" / ORDERER_HOST_NAME


def orderer_tls_ca(settings: InfraSettings) -> Path:
    return orderer_org_dir(settings) / "tlsca" / f"tlsca.{ORDERER_DOMAIN}-cert.pem"


def orderer_admin_tls_dir(settings: InfraSettings) -> Path:
    """The orderer admin's TLS client certificate (client.crt/.key): osnadmin presents it."""
    return orderer_org_dir(settings) / "users" / f"{ADMIN}@{ORDERER_DOMAIN}" / "tls"


# --- a peer org's material ---


def org_dir(settings: InfraSettings, org: FabricOrg) -> Path:
    return crypto_dir(settings) / "peerOrganizations" / org.domain


def peer_node_dir(settings: InfraSettings, org: FabricOrg) -> Path:
    return org_dir(settings, org) / "peers" / peer_host_name(org)


def org_tls_ca(settings: InfraSettings, org: FabricOrg) -> Path:
    return org_dir(settings, org) / "tlsca" / f"tlsca.{org.domain}-cert.pem"


def user_msp_dir(settings: InfraSettings, org: FabricOrg, user: str) -> Path:
    return org_dir(settings, org) / "users" / f"{user}@{org.domain}" / "msp"


def gateway_connection(
    settings: InfraSettings, org_id: str, user: str = CLIENT_USER, *, with_identity: bool = True
) -> FabricConnection:
    """`org_id`'s peer and TLS files and, ``with_identity``, its client `user`'s certificate
    and key (exist once `up` ran)."""
    org = fabric_org(settings, org_id)
    msp = user_msp_dir(settings, org, user)
    return FabricConnection(
        msp_id=org.msp_id,
        peer_endpoint=peer_endpoint(settings, org),
        tls_root_cert=org_tls_ca(settings, org),
        tls_server_name=peer_host_name(org),
        # cryptogen's fixed file names.
        signcert=msp / "signcerts" / f"{user}@{org.domain}-cert.pem" if with_identity else None,
        private_key=msp / "keystore" / "priv_sk" if with_identity else None,
    )


def gateway_connections(
    settings: InfraSettings, own_org: str, user: str = CLIENT_USER
) -> list[FabricConnection]:
    """Every member's peer, with `own_org`'s client identity only: a gateway's settings."""
    return [
        gateway_connection(settings, org.msp_id, user, with_identity=org.msp_id == own_org)
        for org in settings.fabric_orgs
    ]
