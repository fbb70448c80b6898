"""The local Fabric network `curex up --ledger fabric` runs: channels, chaincode, health.

Starts the network through infra/ (the same path as `curex up`), then asks the running
orderer and peers with Fabric's own CLIs what they hold.
"""

import base64
import time
import urllib.request

import pytest
from fabric_protos.msp import msp_principal_pb2
from fabric_protos.peer import policy_pb2

from infra.fabric.admin import (
    approved_package_id,
    committed,
    installed_package_ids,
    orderer_channel,
    peer_channels,
)
from infra.fabric.material import prepare_fabric
from infra.fabric.network import (
    BENCH_CHANNEL,
    CHAINCODE_NAME,
    CHANNELS,
    crypto_dir,
    gateway_connection,
    gateway_connections,
    peer_endpoint,
)
from infra.fabric.package import chaincode_package
from infra.fabric.setup import CHAINCODE_VERSION, setup_network
from infra.progress import SilentProgress
from infra.settings import InfraSettings
from infra.testing import ensure_stack
from ledger_gateway.fabric.ledger import FabricLedger
from ledger_gateway.fabric.network import own_identity, peers

pytestmark = [pytest.mark.integration, pytest.mark.ledger("fabric")]

# A no-op setup is a handful of CLI queries; a no-op prepare only compares files.
NO_OP_SETUP_BUDGET_S = 5.0
NO_OP_PREPARE_BUDGET_S = 2.0


@pytest.fixture(scope="module")
def network() -> InfraSettings:
    peers = [f"fabric-peer-{org.slug}" for org in InfraSettings().fabric_orgs]
    return ensure_stack(peers, ledger="fabric")


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def test_the_bench_has_a_channel_of_its_own() -> None:
    # `curex bench ledger` submits on a channel the workflow does not follow.
    assert CHANNELS == ("curex", "curex-bench")
    assert BENCH_CHANNEL == "curex-bench"


@pytest.mark.parametrize("channel_name", CHANNELS)
def test_the_orderer_is_the_channels_active_consenter(
    network: InfraSettings, channel_name: str
) -> None:
    channel = orderer_channel(network, channel_name)
    assert channel is not None
    assert channel["name"] == channel_name
    assert channel["consensusRelation"] == "consenter"
    assert channel["status"] == "active"


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_peer_has_joined_the_channel(network: InfraSettings, channel: str) -> None:
    for org in network.fabric_orgs:
        assert channel in peer_channels(network, org), org.msp_id


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_chaincode_is_committed_with_both_orgs_peers_required(
    network: InfraSettings, channel: str
) -> None:
    for org in network.fabric_orgs:
        definition = committed(network, org, channel)
        assert definition is not None, org.msp_id
        assert definition["version"] == CHAINCODE_VERSION
        assert definition["approvals"] == {member.msp_id: True for member in network.fabric_orgs}
        policy = policy_pb2.ApplicationPolicy.FromString(
            base64.b64decode(definition["validation_parameter"])
        ).signature_policy
        # AND('ES-SERMAS.peer','SE-KI.peer'): 2 out of the 2 identities, each an org's peer.
        assert policy.rule.n_out_of.n == len(network.fabric_orgs)
        assert [rule.signed_by for rule in policy.rule.n_out_of.rules] == [0, 1]
        roles = [msp_principal_pb2.MSPRole.FromString(i.principal) for i in policy.identities]
        assert [(role.msp_identifier, role.role) for role in roles] == [
            (member.msp_id, msp_principal_pb2.MSPRole.PEER) for member in network.fabric_orgs
        ]


@pytest.mark.parametrize("channel", CHANNELS)
def test_each_org_runs_its_own_chaincode_server_package(
    network: InfraSettings, channel: str
) -> None:
    for org in network.fabric_orgs:
        expected = chaincode_package(network, org).package_id
        assert expected.startswith(f"{CHAINCODE_NAME}_{org.slug}:")
        assert expected in installed_package_ids(network, org)
        sequence = committed(network, org, channel)
        assert sequence is not None
        assert approved_package_id(network, org, int(sequence["sequence"]), channel) == expected


async def test_the_chaincode_servers_answer_on_the_bench_channel(
    network: InfraSettings,
) -> None:
    org = network.fabric_orgs[0].msp_id
    connections = gateway_connections(network, org)
    ledger = FabricLedger.connect(
        own_identity(connections, org), peers(connections), channel=BENCH_CHANNEL
    )
    try:
        assert await ledger.transfer_ids("by-patient", "no-such-patient") == []
        assert await ledger.height() >= 1
    finally:
        await ledger.close()


def test_orderer_and_peers_report_healthy(network: InfraSettings) -> None:
    ports = [network.fabric_orderer_operations_port]
    ports += [org.peer_operations_port for org in network.fabric_orgs]
    for port in ports:
        status, body = _get(f"http://{network.fabric_host}:{port}/healthz")
        assert status == 200, (port, body)
        assert b'"OK"' in body


def test_the_gateway_identity_files_exist(network: InfraSettings) -> None:
    for org in network.fabric_orgs:
        connection = gateway_connection(network, org.msp_id)
        assert connection.peer_endpoint == peer_endpoint(network, org)
        assert connection.tls_server_name == f"peer0.{org.domain}"
        for path in (connection.tls_root_cert, connection.signcert, connection.private_key):
            assert path.is_file(), path


def test_a_second_setup_changes_nothing_and_is_quick(network: InfraSettings) -> None:
    started = time.monotonic()
    actions = setup_network(network)
    elapsed = time.monotonic() - started
    assert actions == []
    assert elapsed < NO_OP_SETUP_BUDGET_S


def test_a_second_prepare_keeps_the_keys_and_is_quick(network: InfraSettings) -> None:
    key = gateway_connection(network, network.fabric_orgs[0].msp_id).private_key
    assert key is not None
    before = key.read_bytes(), crypto_dir(network).stat().st_mtime_ns
    started = time.monotonic()
    prepare_fabric(network, SilentProgress())
    elapsed = time.monotonic() - started
    assert (key.read_bytes(), crypto_dir(network).stat().st_mtime_ns) == before
    assert elapsed < NO_OP_PREPARE_BUDGET_S
