"""The processors' settings (``CUREX_`` environment variables)."""

from pathlib import Path

from service_runtime.settings import PseudonymisingSettings


class ProcessorSettings(PseudonymisingSettings):
    processors_health_port: int = 8095
    # Consumer groups <prefix>-intake and <prefix>-reactions.
    processors_group_prefix: str = "curex-processors"
    processors_instance_id: str = "curex-processors-1"
    processors_max_batch: int = 500
    expiry_check_interval_s: float = 1.0

    @property
    def records_dir(self) -> Path:
        return self.data_dir / "records"
