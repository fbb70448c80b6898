"""The notifier's settings (``CUREX_`` environment variables)."""

from service_runtime.settings import PseudonymisingSettings
from service_runtime.tokens import Issuer


class NotifierSettings(PseudonymisingSettings):
    notifier_host: str = "127.0.0.1"
    notifier_port: int = 8097
    keycloak_url: str = "http://127.0.0.1:8180"
    users_realm: str = "curex"
    # The web client's tokens name the Applications Server; the notifier serves the same users.
    notifier_audience: str = "applications-server"
    # Every instance shares one group: each committed block is written to the inboxes once.
    notifier_group_id: str = "curex-notifier-inbox"
    # Set (unique per instance) for static membership; unset, an instance that stops leaves
    # the group at once and its partitions move to the others without waiting.
    notifier_instance_id: str | None = None
    notifier_max_batch: int = 1000
    # The broker gathers blocks this long per fetch (see ``committing_consumer``); longer
    # than the read model's, so what a user is told of is, as a rule, already listed.
    notifier_gather_ms: int = 50
    # Frames waiting for one client; a client that lets more pile up is closed (1013).
    notifier_send_queue: int = 512
    # A client that takes longer than this to accept one frame is closed (1013).
    notifier_send_timeout_s: float = 10.0
    # How long a closed client has to read up to the close frame before it is dropped.
    notifier_close_timeout_s: float = 30.0
    # A resume replays at most this many changes (the newest ones when the tx is unknown).
    notifier_replay_limit: int = 2000
    notifier_retention_days: float = 30.0
    notifier_retention_interval_s: float = 600.0
    # The feed also looks for new inbox rows this often, should a wake-up be missed.
    notifier_poll_interval_s: float = 1.0

    @property
    def users_issuer(self) -> Issuer:
        return Issuer(f"{self.keycloak_url}/realms/{self.users_realm}", self.notifier_audience)
