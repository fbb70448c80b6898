"""Preparing the Fabric network's files: config, crypto material, genesis blocks, packages.

Each step runs only when its output is missing, so a second `up` leaves everything
(keys, channel) as the first made it. Outputs are written to a staging path and renamed
into place, so an interrupted step is redone rather than half-used.
"""

import shutil
from pathlib import Path
from string import Template

from infra.errors import InfraError
from infra.fabric.cli import check_fabric
from infra.fabric.commands import SAMPLE_CONFIGS, build_fabric_commands, sample_config_dir
from infra.fabric.network import (
    CHANNELS,
    channel_block,
    crypto_dir,
    fabric_config_dir,
    orderer_data_dir,
    org_dir,
    peer_data_dir,
)
from infra.fabric.package import write_package
from infra.progress import ProgressReporter
from infra.settings import InfraSettings

FABRIC_RESOURCES = Path(__file__).parent
CRYPTO_CONFIG = FABRIC_RESOURCES / "crypto-config.yaml"
CONFIGTX_TEMPLATE = FABRIC_RESOURCES / "configtx.yaml"
CHANNEL_PROFILE = "CurexChannel"


def prepare_fabric(settings: InfraSettings, progress: ProgressReporter) -> None:
    """Everything the orderer, the peers and the channel setup need on disk; idempotent."""
    build_fabric_commands(settings, progress)
    write_configs(settings)
    generate_crypto(settings, progress)
    for channel in CHANNELS:
        generate_channel_block(settings, progress, channel)
    for org in settings.fabric_orgs:
        write_package(settings, org)
        peer_data_dir(settings, org).mkdir(parents=True, exist_ok=True)
    orderer_data_dir(settings).mkdir(parents=True, exist_ok=True)


def _write_if_changed(path: Path, text: str) -> None:
    if not (path.is_file() and path.read_text() == text):
        path.write_text(text)


def render_configtx(settings: InfraSettings) -> str:
    values = {
        "crypto_dir": str(crypto_dir(settings)),
        "host": settings.fabric_host,
        "orderer_port": str(settings.fabric_orderer_port),
        "batch_timeout": settings.fabric_batch_timeout,
        "max_message_count": str(settings.fabric_max_message_count),
    }
    for org in settings.fabric_orgs:
        values[f"{org.slug.replace('-', '_')}_peer_port"] = str(org.peer_port)
    text = Template(CONFIGTX_TEMPLATE.read_text()).substitute(values)
    for org in settings.fabric_orgs:
        if f"ID: {org.msp_id}\n" not in text:
            raise InfraError(
                f"{CONFIGTX_TEMPLATE} defines no organisation {org.msp_id}: add it there "
                f"and to {CRYPTO_CONFIG}"
            )
    return text


# The peer reads an empty environment variable as unset, so CORE_VM_ENDPOINT cannot turn
# Docker off: the sample's endpoint is blanked in the copy instead.
_DOCKER_ENDPOINT = "    endpoint: unix:///var/run/docker.sock\n"
_NO_DOCKER_ENDPOINT = "    endpoint:\n"


def core_yaml_without_docker(sample: str) -> str:
    if sample.count(_DOCKER_ENDPOINT) != 1:
        raise InfraError("Fabric's sample core.yaml no longer sets vm.endpoint as expected")
    return sample.replace(_DOCKER_ENDPOINT, _NO_DOCKER_ENDPOINT)


def write_configs(settings: InfraSettings) -> None:
    """Fabric's sample core.yaml (without Docker) and orderer.yaml, which the processes
    override by environment, and our configtx.yaml, in FABRIC_CFG_PATH."""
    config_dir = fabric_config_dir(settings)
    config_dir.mkdir(parents=True, exist_ok=True)
    for name in SAMPLE_CONFIGS:
        text = (sample_config_dir(settings) / name).read_text()
        if name == "core.yaml":
            text = core_yaml_without_docker(text)
        _write_if_changed(config_dir / name, text)
    _write_if_changed(config_dir / "configtx.yaml", render_configtx(settings))


def generate_crypto(settings: InfraSettings, progress: ProgressReporter) -> None:
    target = crypto_dir(settings)
    if not target.is_dir():
        progress.stage("Generating the Fabric network's keys and certificates (cryptogen)")
        staged = target.with_name("crypto.partial")
        shutil.rmtree(staged, ignore_errors=True)
        check_fabric(
            settings,
            "cryptogen",
            ["generate", f"--config={CRYPTO_CONFIG}", f"--output={staged}"],
        )
        staged.rename(target)
    for org in settings.fabric_orgs:
        if not org_dir(settings, org).is_dir():
            raise InfraError(
                f"{target} has no material for {org.msp_id} ({org.domain}): add the org to "
                f"{CRYPTO_CONFIG}, or delete {target.parent} to generate a new network"
            )


def generate_channel_block(
    settings: InfraSettings, progress: ProgressReporter, channel: str
) -> None:
    """The channel's genesis block: every channel has the same profile, only its id differs."""
    block = channel_block(settings, channel)
    if block.is_file():
        return
    progress.stage(f"Generating the genesis block of channel {channel} (configtxgen)")
    block.parent.mkdir(parents=True, exist_ok=True)
    staged = block.with_name(f"{block.name}.partial")
    check_fabric(
        settings,
        "configtxgen",
        [
            "-configPath",
            str(fabric_config_dir(settings)),
            "-profile",
            CHANNEL_PROFILE,
            "-channelID",
            channel,
            "-outputBlock",
            str(staged),
        ],
    )
    staged.replace(block)
