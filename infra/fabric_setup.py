"""Putting the running orderer and peers on channel `curex` with chaincode `curex-transfer`.

Runs after the orderer and both peers are healthy, on every `up`: each step asks first
(channel lists, installed packages, approvals, the committed definition), so a second run
only queries. Steps: the orderer joins the channel (osnadmin) and its Raft node becomes
leader; each peer joins; each org installs its own ccaas package and approves the shared
definition with its package id; the definition is committed, endorsed by both peers;
finally each peer's gossip knows the other org's peer, so their gateways can collect
endorsements from both.
"""

import time
import urllib.error
from collections.abc import Callable
from functools import partial

from infra.errors import FabricCommandFailed
from infra.fabric_admin import (
    ChaincodeDefinition,
    approve,
    approved_package_id,
    commit,
    committed,
    install,
    installed_package_ids,
    join_orderer,
    join_peer,
    metric_values,
    orderer_channel,
    peer_channels,
)
from infra.fabric_network import CHANNEL
from infra.fabric_package import chaincode_package, package_path, write_package
from infra.settings import InfraSettings

# Bump when the definition's parameters change: a new version is committed as the next
# sequence; the same version is left as committed.
CHAINCODE_VERSION = "1.0"
_LEADER_TIMEOUT_S = 60.0
_GOSSIP_TIMEOUT_S = 60.0
_ORDERING_RETRY_S = 30.0
_POLL_INTERVAL_S = 0.2
# Broadcast refusals while the channel's Raft node has no leader yet.
_NOT_READY_MARKERS = ("SERVICE_UNAVAILABLE", "no Raft leader")


def signature_policy(settings: InfraSettings) -> str:
    """Every member org's peer must endorse: AND('ES-SERMAS.peer','SE-KI.peer')."""
    members = ",".join(f"'{org.msp_id}.peer'" for org in settings.fabric_orgs)
    return f"AND({members})"


def setup_network(settings: InfraSettings) -> list[str]:
    """Brings the channel and the chaincode to their wanted state; returns what it changed."""
    actions: list[str] = []
    _ensure_orderer_channel(settings, actions)
    _ensure_peers_joined(settings, actions)
    _ensure_chaincode(settings, actions)
    _wait_for_gossip(settings)
    return actions


def _poll(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise FabricCommandFailed(f"{what} within {timeout_s:g}s")
        time.sleep(_POLL_INTERVAL_S)


def _metric_at_least(url: str, name: str, label: str, minimum: float) -> bool:
    try:
        samples = metric_values(url, name)
    except (OSError, urllib.error.URLError):
        return False
    return any(label in key and value >= minimum for key, value in samples.items())


def _ensure_orderer_channel(settings: InfraSettings, actions: list[str]) -> None:
    if orderer_channel(settings) is None:
        join_orderer(settings)
        actions.append("orderer joined channel")
    metrics = f"http://{settings.fabric_host}:{settings.fabric_orderer_operations_port}/metrics"
    _poll(
        lambda: _metric_at_least(
            metrics, "consensus_etcdraft_is_leader", f'channel="{CHANNEL}"', 1
        ),
        _LEADER_TIMEOUT_S,
        f"the orderer's Raft node for channel {CHANNEL} did not become leader",
    )


def _ensure_peers_joined(settings: InfraSettings, actions: list[str]) -> None:
    for org in settings.fabric_orgs:
        if CHANNEL not in peer_channels(settings, org):
            join_peer(settings, org)
            actions.append(f"{org.msp_id} peer joined channel")


def _with_ordering_retry(step: Callable[[], None]) -> None:
    """Runs a step that orders a transaction, retrying while the orderer is not ready."""
    deadline = time.monotonic() + _ORDERING_RETRY_S
    while True:
        try:
            step()
        except FabricCommandFailed as exc:
            retryable = any(marker in str(exc) for marker in _NOT_READY_MARKERS)
            if not retryable or time.monotonic() > deadline:
                raise
            time.sleep(_POLL_INTERVAL_S)
        else:
            return


def _wanted_definition(settings: InfraSettings) -> tuple[ChaincodeDefinition, bool]:
    """The definition to have committed, and whether it is committed already."""
    policy = signature_policy(settings)
    current = committed(settings, settings.fabric_orgs[0])
    if current is None:
        return ChaincodeDefinition(CHAINCODE_VERSION, 1, policy), False
    sequence = int(current["sequence"])
    if current.get("version") == CHAINCODE_VERSION:
        return ChaincodeDefinition(CHAINCODE_VERSION, sequence, policy), True
    return ChaincodeDefinition(CHAINCODE_VERSION, sequence + 1, policy), False


def _ensure_chaincode(settings: InfraSettings, actions: list[str]) -> None:
    for org in settings.fabric_orgs:
        # Written here, not only at prepare: a changed chaincode address changes the package
        # while the peers keep running.
        package_id = write_package(settings, org).package_id
        if package_id not in installed_package_ids(settings, org):
            install(settings, org, str(package_path(settings, org)))
            actions.append(f"{org.msp_id} installed {package_id}")
    definition, is_committed = _wanted_definition(settings)
    for org in settings.fabric_orgs:
        package_id = chaincode_package(settings, org).package_id
        # At the committed sequence an org may approve again to switch its package.
        if approved_package_id(settings, org, definition.sequence) != package_id:
            _with_ordering_retry(partial(approve, settings, org, definition, package_id))
            actions.append(f"{org.msp_id} approved sequence {definition.sequence}")
    if not is_committed:
        _with_ordering_retry(partial(commit, settings, definition))
        actions.append(f"committed sequence {definition.sequence}")


def _wait_for_gossip(settings: InfraSettings) -> None:
    others = len(settings.fabric_orgs) - 1
    for org in settings.fabric_orgs:
        metrics = f"http://{settings.fabric_host}:{org.peer_operations_port}/metrics"
        _poll(
            partial(
                _metric_at_least,
                metrics,
                "gossip_membership_total_peers_known",
                f'channel="{CHANNEL}"',
                others,
            ),
            _GOSSIP_TIMEOUT_S,
            f"{org.msp_id}'s peer did not learn of the other orgs' peers through gossip",
        )
