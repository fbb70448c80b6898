"""Settings every project service shares; each service's own class extends it."""

from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "dev-only-not-a-secret"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CUREX_", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("curex")))
    kafka_bootstrap: str = "127.0.0.1:9092"
    pseudonym_key: str = PLACEHOLDER_SECRET
    # The Applications Database (PostgreSQL); `curex up` hands each service its URL.
    database_url: str = "postgresql://curex@127.0.0.1:5433/curex"

    @model_validator(mode="after")
    def _refuse_placeholder_secrets_outside_dev(self) -> "ServiceSettings":
        if self.env == "prod" and self.pseudonym_key == PLACEHOLDER_SECRET:
            raise ValueError("CUREX_PSEUDONYM_KEY must be set to a real secret outside dev")
        return self
