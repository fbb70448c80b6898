"""Each organisation's gateway holds its own signing identity and no other: what its process
is given (settings) and how the keys are kept on disk (permissions)."""

import json
import stat
from pathlib import Path

import pytest

from infra.fabric.network import gateway_connection
from infra.ledger_keys import signing_key_path
from infra.settings import InfraSettings
from infra.stack import stack_status

pytestmark = pytest.mark.integration

GATEWAYS = {"ES-SERMAS": "ledger-gateway", "SE-KI": "ledger-gateway-se-ki"}


def _environment(stack: InfraSettings, service: str) -> dict[str, str]:
    status = {s.name: s for s in stack_status(stack)}[service]
    assert status.pid is not None, f"{service} is not running"
    raw = Path(f"/proc/{status.pid}/environ").read_bytes()
    pairs = (entry.split(b"=", 1) for entry in raw.split(b"\0") if b"=" in entry)
    return {key.decode(): value.decode() for key, value in pairs}


def _key_files(stack: InfraSettings, org: str) -> list[Path]:
    if stack.ledger == "fabric":
        key = gateway_connection(stack, org).private_key
        assert key is not None
        return [key]
    return [signing_key_path(stack, org)]


@pytest.mark.parametrize("org", sorted(GATEWAYS))
def test_a_gateway_is_given_its_own_key_and_no_other(stack: InfraSettings, org: str) -> None:
    environment = _environment(stack, GATEWAYS[org])
    assert environment["CUREX_GATEWAY_ORG"] == org
    given = "\n".join(environment.values())
    for other in GATEWAYS:
        for key in _key_files(stack, other):
            assert (str(key) in given) is (other == org), (org, other, key)
    if stack.ledger == "fabric":
        connections = json.loads(environment["CUREX_FABRIC_CONNECTIONS"])
        with_identity = {c["msp_id"] for c in connections if c["private_key"] is not None}
        assert with_identity == {org}


@pytest.mark.parametrize("org", sorted(GATEWAYS))
def test_a_signing_key_is_readable_by_its_owner_only(stack: InfraSettings, org: str) -> None:
    for key in _key_files(stack, org):
        mode = stat.S_IMODE(key.stat().st_mode)
        assert mode & (stat.S_IRWXG | stat.S_IRWXO) == 0, f"{key} is {oct(mode)}"
