"""Where the local stack keeps its data and which addresses its services use."""

from pathlib import Path
from typing import Literal

from platformdirs import user_cache_dir, user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LedgerKind = Literal["embedded", "fabric"]


class InfraSettings(BaseSettings):
    """Settings of `curex up/status/down`, read from `CUREX_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="CUREX_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("curex")))
    cache_dir: Path = Field(default_factory=lambda: Path(user_cache_dir("curex")))
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_controller_port: int = 9093
    ledger_gateway_port: int = 8091
    processors_health_port: int = 8095
    ledger: LedgerKind = "embedded"
    startup_timeout_s: float = 120.0

    @property
    def kafka_host(self) -> str:
        return self.kafka_bootstrap.rsplit(":", 1)[0]

    @property
    def kafka_port(self) -> int:
        return int(self.kafka_bootstrap.rsplit(":", 1)[1])

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def config_dir(self) -> Path:
        return self.data_dir / "config"

    @property
    def kafka_data_dir(self) -> Path:
        return self.data_dir / "kafka"

    @property
    def supervisor_socket(self) -> Path:
        return self.data_dir / "supervisor.sock"
