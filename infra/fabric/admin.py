"""Administering the running network with Fabric's CLIs: osnadmin for the orderer's
channels, `peer` as an org's Admin for channels and the chaincode lifecycle.

Queries answer None/empty for "not there yet" and raise FabricCommandFailed otherwise, so
the setup can ask before it acts and every step stays idempotent.
"""

import json
import re
import urllib.request
from dataclasses import dataclass
from typing import Any, cast

from infra.errors import FabricCommandFailed
from infra.fabric.cli import check_fabric, run_fabric
from infra.fabric.network import (
    ADMIN,
    CHAINCODE_NAME,
    CHANNEL,
    channel_block,
    orderer_admin_endpoint,
    orderer_admin_tls_dir,
    orderer_endpoint,
    orderer_tls_ca,
    org_tls_ca,
    peer_endpoint,
    user_msp_dir,
)
from infra.settings import FabricOrg, InfraSettings

_STATUS_LINE = re.compile(r"^Status: (\d+)\n", re.MULTILINE)
_HTTP_NOT_FOUND = 404


def _name_flags(channel: str) -> list[str]:
    return ["-C", channel, "-n", CHAINCODE_NAME]


@dataclass(frozen=True, slots=True)
class ChaincodeDefinition:
    """What a channel's members agree on (the package each org runs is its own)."""

    channel: str
    version: str
    sequence: int
    signature_policy: str


# --- the orderer (channel participation API) ---


def _osnadmin(settings: InfraSettings, args: list[str]) -> tuple[int, dict[str, Any]]:
    tls = orderer_admin_tls_dir(settings)
    stdout = check_fabric(
        settings,
        "osnadmin",
        [
            "channel",
            *args,
            "-o",
            orderer_admin_endpoint(settings),
            "--ca-file",
            str(orderer_tls_ca(settings)),
            "--client-cert",
            str(tls / "client.crt"),
            "--client-key",
            str(tls / "client.key"),
        ],
    )
    match = _STATUS_LINE.search(stdout)
    if match is None:
        raise FabricCommandFailed(f"osnadmin channel {args[0]} answered without a status: {stdout}")
    body = stdout[match.end() :].strip()
    return int(match.group(1)), cast(dict[str, Any], json.loads(body)) if body else {}


def orderer_channels(settings: InfraSettings) -> list[str]:
    """The names of the channels the orderer has joined."""
    status, body = _osnadmin(settings, ["list"])
    if status != 200:
        raise FabricCommandFailed(f"osnadmin channel list answered {status}: {body}")
    return [str(entry["name"]) for entry in body.get("channels") or []]


def orderer_channel(settings: InfraSettings, channel: str = CHANNEL) -> dict[str, Any] | None:
    """The orderer's view of `channel` (status, consensusRelation, height), or None."""
    status, body = _osnadmin(settings, ["list", "--channelID", channel])
    if status == _HTTP_NOT_FOUND:
        return None
    if status != 200:
        raise FabricCommandFailed(f"osnadmin channel list answered {status}: {body}")
    return body


def join_orderer(settings: InfraSettings, channel: str = CHANNEL) -> None:
    block = channel_block(settings, channel)
    status, body = _osnadmin(
        settings, ["join", "--channelID", channel, "--config-block", str(block)]
    )
    if status != 201:
        raise FabricCommandFailed(f"osnadmin channel join answered {status}: {body}")


def metric_values(url: str, name: str, timeout_s: float = 3.0) -> dict[str, float]:
    """The samples of one Prometheus metric at `url`, keyed by their label text."""
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        text = cast(bytes, response.read()).decode()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            key, _, value = line.rpartition(" ")
            samples[key[len(name) :]] = float(value)
    return samples


# --- a peer, driven as its org's Admin ---


def _admin_env(settings: InfraSettings, org: FabricOrg) -> dict[str, str]:
    return {
        "CORE_PEER_LOCALMSPID": org.msp_id,
        "CORE_PEER_MSPCONFIGPATH": str(user_msp_dir(settings, org, ADMIN)),
        "CORE_PEER_ADDRESS": peer_endpoint(settings, org),
        "CORE_PEER_TLS_ENABLED": "true",
        "CORE_PEER_TLS_ROOTCERT_FILE": str(org_tls_ca(settings, org)),
    }


def _orderer_flags(settings: InfraSettings) -> list[str]:
    return ["-o", orderer_endpoint(settings), "--tls", "--cafile", str(orderer_tls_ca(settings))]


def _peer(settings: InfraSettings, org: FabricOrg, args: list[str]) -> str:
    return check_fabric(settings, "peer", args, env=_admin_env(settings, org))


def peer_channels(settings: InfraSettings, org: FabricOrg) -> list[str]:
    stdout = _peer(settings, org, ["channel", "list"])
    # "Channels peers has joined: " followed by one channel per line.
    return [line.strip() for line in stdout.splitlines()[1:] if line.strip()]


def join_peer(settings: InfraSettings, org: FabricOrg, channel: str = CHANNEL) -> None:
    _peer(settings, org, ["channel", "join", "-b", str(channel_block(settings, channel))])


def installed_package_ids(settings: InfraSettings, org: FabricOrg) -> set[str]:
    stdout = _peer(settings, org, ["lifecycle", "chaincode", "queryinstalled", "--output", "json"])
    installed = json.loads(stdout).get("installed_chaincodes") or []
    return {entry["package_id"] for entry in installed}


def install(settings: InfraSettings, org: FabricOrg, package_file: str) -> None:
    _peer(settings, org, ["lifecycle", "chaincode", "install", package_file])


def committed(
    settings: InfraSettings, org: FabricOrg, channel: str = CHANNEL
) -> dict[str, Any] | None:
    """The chaincode's definition committed on `channel` (version, sequence, approvals), or None."""
    result = run_fabric(
        settings,
        "peer",
        ["lifecycle", "chaincode", "querycommitted", *_name_flags(channel), "--output", "json"],
        env=_admin_env(settings, org),
    )
    if result.returncode != 0:
        # "query failed with status: 404 - namespace curex-transfer is not defined"
        if "status: 404" in result.output:
            return None
        raise FabricCommandFailed(f"peer lifecycle chaincode querycommitted: {result.output}")
    return cast(dict[str, Any], json.loads(result.stdout))


def approved_package_id(
    settings: InfraSettings, org: FabricOrg, sequence: int, channel: str = CHANNEL
) -> str | None:
    """The package id `org` approved on `channel` at `sequence` ("" when none), or None."""
    result = run_fabric(
        settings,
        "peer",
        [
            "lifecycle",
            "chaincode",
            "queryapproved",
            *_name_flags(channel),
            "--sequence",
            str(sequence),
            "--output",
            "json",
        ],
        env=_admin_env(settings, org),
    )
    if result.returncode != 0:
        if "could not fetch approved chaincode definition" in result.output:
            return None
        raise FabricCommandFailed(f"peer lifecycle chaincode queryapproved: {result.output}")
    source = json.loads(result.stdout).get("source") or {}
    local = (source.get("Type") or {}).get("LocalPackage") or {}
    return str(local.get("package_id", ""))


def _definition_flags(definition: ChaincodeDefinition) -> list[str]:
    return [
        *_name_flags(definition.channel),
        "-v",
        definition.version,
        "--sequence",
        str(definition.sequence),
        "--signature-policy",
        definition.signature_policy,
    ]


def approve(
    settings: InfraSettings, org: FabricOrg, definition: ChaincodeDefinition, package_id: str
) -> None:
    """Approves for `org`; returns once the approval is committed on its peer."""
    _peer(
        settings,
        org,
        [
            "lifecycle",
            "chaincode",
            "approveformyorg",
            *_orderer_flags(settings),
            *_definition_flags(definition),
            "--package-id",
            package_id,
        ],
    )


def commit(settings: InfraSettings, definition: ChaincodeDefinition) -> None:
    """Commits, endorsed by every org's peer; returns once each peer committed it."""
    first, *_ = settings.fabric_orgs
    targets: list[str] = []
    for org in settings.fabric_orgs:
        targets += ["--peerAddresses", peer_endpoint(settings, org)]
        targets += ["--tlsRootCertFiles", str(org_tls_ca(settings, org))]
    _peer(
        settings,
        first,
        [
            "lifecycle",
            "chaincode",
            "commit",
            *_orderer_flags(settings),
            *_definition_flags(definition),
            *targets,
        ],
    )
