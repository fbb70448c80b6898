"""Settings every project service shares; each service's own class extends it.

Secrets fail closed: a service refuses to start with a placeholder published in the
repository, or a secret shorter than 32 bytes, unless ``CUREX_ENV=dev`` is set explicitly.
``curex up`` generates every secret per installation, so even a developer's stack runs on
its own.
"""

import sys
from pathlib import Path
from typing import Literal, TypeVar

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.network import DEMO_NETWORK, Network
from service_runtime.kafka_access import KafkaAccess

PLACEHOLDER_SECRET = "dev-only-not-a-secret"
# Every secret value that was ever committed to the repository.
PUBLISHED_SECRETS = frozenset(
    {
        PLACEHOLDER_SECRET,
        "dev-applications-server-secret",
        "dev-ledger-es-sermas-secret",
        "dev-ledger-se-ki-secret",
        "dev-keycloak-admin",
        "generated per installation by curex up",
    }
)
MIN_SECRET_BYTES = 32

Env = Literal["dev", "test", "prod"]


def refuse_weak_secret(setting: str, value: str, env: Env | None) -> None:
    """Raise ValueError naming ``setting`` unless its value may be used here."""
    if env == "dev":
        return
    if value in PUBLISHED_SECRETS:
        raise ValueError(
            f"{setting} holds a placeholder published in the repository: run `curex up`, "
            "which generates one per installation, or set CUREX_ENV=dev to develop with it"
        )
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"{setting} is shorter than {MIN_SECRET_BYTES} bytes")


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CUREX_", extra="ignore")

    # Unset is not dev: placeholders are accepted only when dev is said explicitly.
    env: Env | None = None
    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("curex")))
    kafka_bootstrap: str = "127.0.0.1:9092"
    # The principal this process runs as on the bus (SCRAM-SHA-512); `curex up` generates
    # one per service and installation. Unset: an unauthenticated client, which a broker
    # with ACLs refuses.
    kafka_username: str | None = None
    kafka_password: SecretStr | None = None
    # The Applications Database (PostgreSQL); `curex up` hands each service its URL.
    database_url: str = "postgresql://curex@127.0.0.1:5433/curex"
    # The ledger network's members and whom they sign for (JSON in CUREX_NETWORK).
    network: Network = DEMO_NETWORK
    # Full garbage collections on a timer (young ones run as usual): see gc_pauses.
    gc_full_every_s: float = 600.0

    @property
    def kafka(self) -> KafkaAccess:
        password = self.kafka_password.get_secret_value() if self.kafka_password else None
        return KafkaAccess(self.kafka_bootstrap, self.kafka_username, password)


class PseudonymisingSettings(ServiceSettings):
    """For the services that turn patient identifiers into pseudonyms."""

    pseudonym_key: str = PLACEHOLDER_SECRET

    @model_validator(mode="after")
    def _refuse_a_weak_pseudonym_key(self) -> "PseudonymisingSettings":
        refuse_weak_secret("CUREX_PSEUDONYM_KEY", self.pseudonym_key, self.env)
        return self


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def load_settings(kind: type[SettingsT]) -> SettingsT:
    """The process's settings, or exit non-zero saying which setting is wrong and why."""
    try:
        return kind()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or kind.__name__}: {e['msg']}" for e in error.errors()
        )
        sys.exit(f"refusing to start: {problems}")
