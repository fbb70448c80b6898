"""The processors' settings (``CUREX_`` environment variables)."""

from pathlib import Path

from infra.runtime_settings import ServiceSettings


class ProcessorSettings(ServiceSettings):
    processors_health_port: int = 8095
    read_model_port: int = 8096
    processors_app_id: str = "curex-processors"
    processors_instance_id: str = "curex-processors-1"
    expiry_check_interval_s: float = 1.0

    @property
    def records_dir(self) -> Path:
        return self.data_dir / "records"

    @property
    def worker_dir(self) -> Path:
        return self.data_dir / "processors"
