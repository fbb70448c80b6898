"""Who may sign for whom: the ledger network's members and the organisations they host.

Every contract host (each Fabric peer's chaincode, the embedded ledger) and the processors,
which route a command to the gateway that may sign it, read the same configuration; like
a channel's member list it is set by the network's operators, never by a transaction.
"""

import json

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEMO_MEMBERS = ("ES-SERMAS", "SE-KI")


class Network(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Organisations with a peer and a signing identity of their own.
    members: tuple[str, ...] = Field(default=DEMO_MEMBERS, min_length=1)
    # Organisation without a peer -> the member that signs for it.
    hosting: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _hosts_are_members(self) -> "Network":
        for org, host in self.hosting.items():
            if org in self.members:
                raise ValueError(f"{org} is a member and cannot be hosted")
            if host not in self.members:
                raise ValueError(f"{org} is hosted by {host}, which is not a member")
        return self

    def host_of(self, org: str) -> str | None:
        """The member that signs for ``org``: itself if a member, its host, or None."""
        if org in self.members:
            return org
        return self.hosting.get(org)

    def orgs_signed_by(self, member: str) -> frozenset[str]:
        return frozenset({member, *(o for o, h in self.hosting.items() if h == member)})

    def to_env(self) -> str:
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"))


DEMO_NETWORK = Network()
