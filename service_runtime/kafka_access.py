"""How a process reaches the broker: its address and, on an authenticated bus, the
SCRAM-SHA-512 credentials of the principal it runs as."""

from dataclasses import dataclass, field
from typing import Any

SASL_MECHANISM = "SCRAM-SHA-512"


@dataclass(frozen=True, slots=True)
class KafkaAccess:
    bootstrap: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    # SCRAM for every principal; PLAIN only for the broker's own super user (infra).
    mechanism: str = SASL_MECHANISM

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for every aiokafka client of this principal."""
        options: dict[str, Any] = {"bootstrap_servers": self.bootstrap}
        if self.username is not None:
            options.update(
                security_protocol="SASL_PLAINTEXT",
                sasl_mechanism=self.mechanism,
                sasl_plain_username=self.username,
                sasl_plain_password=self.password or "",
            )
        return options
