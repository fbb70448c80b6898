"""The projector's settings (``CUREX_`` environment variables)."""

from service_runtime.settings import ServiceSettings


class ReadModelSettings(ServiceSettings):
    read_model_port: int = 8096
    read_model_group_id: str = "curex-read-model"
    read_model_instance_id: str = "curex-read-model-1"
    read_model_max_batch: int = 2000
    # The broker gathers blocks this long per fetch (see ``committing_consumer``). Shorter
    # than the notifier's: a user told of a change acts on it through the API, which checks
    # the state the read model holds (at 100 ms, ci28 was refused a step it had been told of).
    read_model_gather_ms: int = 20
    # How often the transfers-per-state and stuck-transfer gauges are counted again.
    read_model_counts_every_s: float = 15.0
