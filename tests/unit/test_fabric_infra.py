"""The pure parts of infra's Fabric network: packages, config rendering, process env."""

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from infra.fabric.material import core_yaml_without_docker, render_configtx
from infra.fabric.package import chaincode_package
from infra.fabric.processes import BUILDER_DIR, chaincode_env, peer_env
from infra.fabric.setup import signature_policy
from infra.settings import InfraSettings


@pytest.fixture
def settings(tmp_path: Path) -> InfraSettings:
    return InfraSettings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")


def _members(content: bytes) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as archive:
        for member in archive.getmembers():
            extracted = archive.extractfile(member)
            assert extracted is not None, member.name
            files[member.name] = extracted.read()
    return files


def test_a_package_is_the_same_bytes_every_time(settings: InfraSettings) -> None:
    org = settings.fabric_orgs[0]
    assert chaincode_package(settings, org).content == chaincode_package(settings, org).content


def test_the_package_id_is_fabrics_label_and_sha256(settings: InfraSettings) -> None:
    for org in settings.fabric_orgs:
        package = chaincode_package(settings, org)
        digest = hashlib.sha256(package.content).hexdigest()
        assert package.package_id == f"curex-transfer_{org.slug}:{digest}"


def test_a_package_points_the_peer_at_its_orgs_chaincode_server(settings: InfraSettings) -> None:
    ids = set()
    for org in settings.fabric_orgs:
        package = chaincode_package(settings, org)
        files = _members(package.content)
        assert json.loads(files["metadata.json"]) == {"type": "ccaas", "label": package.label}
        connection = json.loads(_members(files["code.tar.gz"])["connection.json"])
        assert connection["address"] == f"127.0.0.1:{org.chaincode_port}"
        assert connection["tls_required"] is False
        ids.add(package.package_id)
    assert len(ids) == len(settings.fabric_orgs)


def test_configtx_gets_every_placeholder_and_the_block_cutting_settings(tmp_path: Path) -> None:
    settings = InfraSettings(
        data_dir=tmp_path, fabric_batch_timeout="250ms", fabric_max_message_count=42
    )
    text = render_configtx(settings)
    assert "$" not in text
    assert "BatchTimeout: 250ms" in text
    assert "MaxMessageCount: 42" in text
    assert f"MSPDir: {tmp_path}/fabric/crypto/peerOrganizations/se-ki.curex.local/msp" in text
    assert "Port: 9051" in text


def test_the_peerscore_yaml_without_docker_names_no_docker_endpoint() -> None:
    sample = "vm:\n    endpoint: unix:///var/run/docker.sock\n    docker:\n"
    assert core_yaml_without_docker(sample) == "vm:\n    endpoint:\n    docker:\n"


def test_peers_use_our_external_builder(settings: InfraSettings) -> None:
    env = peer_env(settings, settings.fabric_orgs[1])
    assert json.loads(env["CORE_CHAINCODE_EXTERNALBUILDERS"]) == [
        {"name": "curex-ccaas", "path": str(BUILDER_DIR)}
    ]
    assert env["CORE_PEER_LISTENADDRESS"] == "127.0.0.1:9051"
    assert env["CORE_PEER_TLS_ENABLED"] == "true"
    assert env["CORE_PEER_FILESYSTEMPATH"].startswith(str(settings.data_dir / "fabric"))


def test_chaincode_servers_get_their_package_id_and_the_members(settings: InfraSettings) -> None:
    org = settings.fabric_orgs[0]
    assert chaincode_env(settings, org) == {
        "CUREX_CHAINCODE_ID": chaincode_package(settings, org).package_id,
        "CUREX_CHAINCODE_ADDRESS": "127.0.0.1:7060",
        "CUREX_NETWORK": settings.network.to_env(),
    }


def test_the_endorsement_policy_needs_both_orgs_peers(settings: InfraSettings) -> None:
    assert signature_policy(settings) == "AND('ES-SERMAS.peer','SE-KI.peer')"


def test_the_builder_claims_ccaas_and_releases_its_connection(tmp_path: Path) -> None:
    source, metadata, build, release = (tmp_path / name for name in ("src", "md", "bld", "rel"))
    for directory in (source, metadata):
        directory.mkdir()
    (source / "connection.json").write_text('{"address": "127.0.0.1:7060"}')
    (metadata / "metadata.json").write_text('{"type": "ccaas", "label": "x"}')
    bin_dir = BUILDER_DIR / "bin"
    subprocess.run([bin_dir / "detect", source, metadata], check=True)
    subprocess.run([bin_dir / "build", source, metadata, build], check=True)
    subprocess.run([bin_dir / "release", build, release], check=True)
    released = release / "chaincode" / "server" / "connection.json"
    assert released.read_text() == '{"address": "127.0.0.1:7060"}'
    (metadata / "metadata.json").write_text('{"type": "golang", "label": "x"}')
    assert subprocess.run([bin_dir / "detect", source, metadata], check=False).returncode == 1
