"""Putting the running orderer and peers on every channel of CHANNELS (`curex`, and
`curex-bench` for `curex bench ledger`) with chaincode `curex-transfer` on each.

Runs after the orderer and both peers are healthy, on every `up`: each step asks first
(channel lists, installed packages, approvals, the committed definitions), so a second run
only queries, and a network made before a channel was added gets it on its next `up`.
Steps: the orderer joins each channel (osnadmin) and its Raft node becomes leader of each;
each peer joins each channel; each org installs its own ccaas package once, and on each
channel approves the shared definition with its package id; the definition is committed
per channel, endorsed by both peers; finally each peer's gossip knows the other org's peer
on each channel, so their gateways can collect endorsements from both.
"""

import time
import urllib.error
from collections.abc import Callable
from functools import partial

from infra.errors import FabricCommandFailed
from infra.fabric.admin import (
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
    orderer_channels,
    peer_channels,
)
from infra.fabric.material import generate_channel_block
from infra.fabric.network import CHANNELS
from infra.fabric.package import chaincode_package, package_path, write_package
from infra.progress import SilentProgress
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


def setup_network(settings: InfraSettings, channels: tuple[str, ...] = CHANNELS) -> list[str]:
    """Brings the channels and the chaincode to their wanted state; returns what it changed."""
    actions: list[str] = []
    _ensure_orderer_channels(settings, channels, actions)
    _ensure_peers_joined(settings, channels, actions)
    _ensure_installed(settings, actions)
    for channel in channels:
        _ensure_chaincode(settings, channel, actions)
    _wait_for_gossip(settings, channels)
    return actions


def _poll(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise FabricCommandFailed(f"{what} within {timeout_s:g}s")
        time.sleep(_POLL_INTERVAL_S)


def _metric_at_least(url: str, name: str, channels: tuple[str, ...], minimum: float) -> bool:
    """Whether every channel's sample of the metric is at least `minimum` (one scrape)."""
    try:
        samples = metric_values(url, name)
    except (OSError, urllib.error.URLError):
        return False
    return all(
        any(f'channel="{channel}"' in key and value >= minimum for key, value in samples.items())
        for channel in channels
    )


def _ensure_orderer_channels(
    settings: InfraSettings, channels: tuple[str, ...], actions: list[str]
) -> None:
    joined = orderer_channels(settings)
    for channel in channels:
        if channel not in joined:
            # Prepare only runs for an orderer that is not running: a channel added to a
            # running network gets its genesis block here.
            generate_channel_block(settings, SilentProgress(), channel)
            join_orderer(settings, channel)
            actions.append(f"orderer joined channel {channel}")
    metrics = f"http://{settings.fabric_host}:{settings.fabric_orderer_operations_port}/metrics"
    _poll(
        partial(_metric_at_least, metrics, "consensus_etcdraft_is_leader", channels, 1),
        _LEADER_TIMEOUT_S,
        f"the orderer's Raft node did not become leader of channels {', '.join(channels)}",
    )


def _ensure_peers_joined(
    settings: InfraSettings, channels: tuple[str, ...], actions: list[str]
) -> None:
    for org in settings.fabric_orgs:
        joined = peer_channels(settings, org)
        for channel in channels:
            if channel not in joined:
                join_peer(settings, org, channel)
                actions.append(f"{org.msp_id} peer joined channel {channel}")


def _with_ordering_retry(step: Callable[[], None]) -> None:
    """Runs a step that orders a transaction, retrying while the orderer is not ready."""
    deadline = time.monotonic() + _ORDERING_RETRY_S
    while True:
        try:
            step()
        except FabricCommandFailed as exc:
            retriable = any(marker in str(exc) for marker in _NOT_READY_MARKERS)
            if not retriable or time.monotonic() > deadline:
                raise
            time.sleep(_POLL_INTERVAL_S)
        else:
            return


def _wanted_definition(settings: InfraSettings, channel: str) -> tuple[ChaincodeDefinition, bool]:
    """The definition to have committed on `channel`, and whether it is committed already."""
    policy = signature_policy(settings)
    current = committed(settings, settings.fabric_orgs[0], channel)
    if current is None:
        return ChaincodeDefinition(channel, CHAINCODE_VERSION, 1, policy), False
    sequence = int(current["sequence"])
    if current.get("version") == CHAINCODE_VERSION:
        return ChaincodeDefinition(channel, CHAINCODE_VERSION, sequence, policy), True
    return ChaincodeDefinition(channel, CHAINCODE_VERSION, sequence + 1, policy), False


def _ensure_installed(settings: InfraSettings, actions: list[str]) -> None:
    """Each org's package on its peer: installed once, used on every channel."""
    for org in settings.fabric_orgs:
        # Written here, not only at prepare: a changed chaincode address changes the package
        # while the peers keep running.
        package_id = write_package(settings, org).package_id
        if package_id not in installed_package_ids(settings, org):
            install(settings, org, str(package_path(settings, org)))
            actions.append(f"{org.msp_id} installed {package_id}")


def _ensure_chaincode(settings: InfraSettings, channel: str, actions: list[str]) -> None:
    definition, is_committed = _wanted_definition(settings, channel)
    for org in settings.fabric_orgs:
        package_id = chaincode_package(settings, org).package_id
        # At the committed sequence an org may approve again to switch its package.
        approved = approved_package_id(settings, org, definition.sequence, channel)
        if approved != package_id:
            _with_ordering_retry(partial(approve, settings, org, definition, package_id))
            actions.append(f"{org.msp_id} approved sequence {definition.sequence} on {channel}")
    if not is_committed:
        _with_ordering_retry(partial(commit, settings, definition))
        actions.append(f"committed sequence {definition.sequence} on {channel}")


def _wait_for_gossip(settings: InfraSettings, channels: tuple[str, ...]) -> None:
    others = len(settings.fabric_orgs) - 1
    for org in settings.fabric_orgs:
        metrics = f"http://{settings.fabric_host}:{org.peer_operations_port}/metrics"
        _poll(
            partial(
                _metric_at_least,
                metrics,
                "gossip_membership_total_peers_known",
                channels,
                others,
            ),
            _GOSSIP_TIMEOUT_S,
            f"{org.msp_id}'s peer did not learn of the other orgs' peers through gossip "
            f"on channels {', '.join(channels)}",
        )
