"""The ledger gateway's settings (``CUREX_`` environment variables)."""

from pathlib import Path

from infra.runtime_settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    ledger_gateway_port: int = 8091
    gateway_group_id: str = "curex-ledger-gateway"
    gateway_instance_id: str = "curex-ledger-gateway-1"
    gateway_max_batch: int = 500

    @property
    def ledger_dir(self) -> Path:
        return self.data_dir / "ledger"

    @property
    def ledger_path(self) -> Path:
        return self.ledger_dir / "embedded.sqlite"

    @property
    def checkpoint_path(self) -> Path:
        return self.ledger_dir / "published.checkpoint"
