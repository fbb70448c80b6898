"""Secrets fail closed: placeholders and short secrets are refused unless dev is said
explicitly, and every installation generates its own."""

import json
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from infra.keycloak.clients import with_installation_secrets
from infra.keycloak.service import realm_files
from infra.secrets import client_secret, pseudonym_key
from infra.settings import InfraSettings
from processors.settings import ProcessorSettings
from producers.api.settings import ApiSettings
from service_runtime.settings import PLACEHOLDER_SECRET, PUBLISHED_SECRETS

STRONG = "k" * 32


@pytest.mark.parametrize("env", [None, "test", "prod"])
@pytest.mark.parametrize("key", [PLACEHOLDER_SECRET, "short-key", "x" * 31])
def test_a_placeholder_or_short_pseudonym_key_is_refused_outside_dev(
    env: str | None, key: str
) -> None:
    with pytest.raises(ValidationError, match="CUREX_PSEUDONYM_KEY"):
        ProcessorSettings(env=env, pseudonym_key=key)


def test_dev_said_explicitly_accepts_the_placeholder_and_a_real_key_is_always_accepted() -> None:
    assert ProcessorSettings(env="dev").pseudonym_key == PLACEHOLDER_SECRET
    assert ProcessorSettings(pseudonym_key=STRONG).pseudonym_key == STRONG


def test_the_api_refuses_a_committed_client_secret_and_names_the_setting() -> None:
    with pytest.raises(ValidationError, match="CUREX_ADMIN_CLIENT_SECRET"):
        ApiSettings(pseudonym_key=STRONG, admin_client_secret="dev-applications-server-secret")
    with pytest.raises(ValidationError, match=r"CUREX_LEDGER_ACCESS\[ES-SERMAS\]"):
        ApiSettings(pseudonym_key=STRONG, admin_client_secret=STRONG)


def test_two_installations_get_different_secrets_readable_only_by_their_owner(
    tmp_path: Path,
) -> None:
    first = InfraSettings(data_dir=tmp_path / "one")
    second = InfraSettings(data_dir=tmp_path / "two")
    assert pseudonym_key(first) != pseudonym_key(second)
    assert client_secret(first, "ledger-se-ki") != client_secret(second, "ledger-se-ki")
    assert pseudonym_key(first) == pseudonym_key(first)  # generated once, then kept
    assert len(pseudonym_key(first).encode()) >= 32
    for path in first.secrets_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_every_committed_realm_secret_is_replaced_by_the_installations(tmp_path: Path) -> None:
    settings = InfraSettings(data_dir=tmp_path)
    for path in realm_files():
        realm = json.loads(path.read_text())
        installed = with_installation_secrets(realm, settings)
        secrets = [c["secret"] for c in installed["clients"] if "secret" in c]
        assert secrets
        assert not set(secrets) & PUBLISHED_SECRETS
        assert all(
            secret == client_secret(settings, c["clientId"])
            for c, secret in zip(
                [c for c in installed["clients"] if "secret" in c], secrets, strict=True
            )
        )
