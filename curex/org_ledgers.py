"""Every member's ledger connection at once, for the tools that act for several organisations
(the benches, the tests): each command goes through the connection of the member that signs
for its actor, as the per-organisation gateways would send it."""

import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infra.fabric.network import gateway_connections
from infra.settings import InfraSettings
from ledger_gateway.embedded import EmbeddedLedger, EmbeddedLedgerPort
from ledger_gateway.embedded.signing import CommandSigner, Membership
from ledger_gateway.fabric.gateway_client import GatewayClient
from ledger_gateway.fabric.ledger import FabricLedger
from ledger_gateway.fabric.network import own_identity, peers
from ledger_gateway.port import BlockView, CommittedTx, Ledger, Outcome, VerifyReport
from schemas import LedgerCommand, LedgerHistoryItem, SafeguardAudit, Transfer
from schemas.network import Network


class OrgLedgers:
    """The ledger port over one connection per member; reads through the first member's."""

    def __init__(self, ledgers: Mapping[str, Ledger], network: Network) -> None:
        self.by_org = dict(ledgers)
        self._network = network
        self._reader = self.by_org[network.members[0]]

    async def submit(self, commands: list[LedgerCommand]) -> list[Outcome]:
        groups: dict[str, list[int]] = {}
        for index, command in enumerate(commands):
            host = self._network.host_of(command.actor.org) or self._network.members[0]
            groups.setdefault(host, []).append(index)
        outcomes: dict[int, Outcome] = {}
        for host, indexes in groups.items():
            results = await self.by_org[host].submit([commands[i] for i in indexes])
            outcomes.update(zip(indexes, results, strict=True))
        return [outcomes[i] for i in range(len(commands))]

    async def committed_after(
        self, block_number: int, position: int = -1, limit: int = 1000
    ) -> list[CommittedTx]:
        return await self._reader.committed_after(block_number, position, limit)

    async def transfer(self, transfer_id: str) -> Transfer | None:
        return await self._reader.transfer(transfer_id)

    async def history(self, transfer_id: str) -> list[LedgerHistoryItem]:
        return await self._reader.history(transfer_id)

    async def safeguard_audit(self, org_id: str, at: datetime) -> SafeguardAudit:
        return await self._reader.safeguard_audit(org_id, at)

    async def height(self) -> int:
        return await self._reader.height()

    async def block(self, number: int) -> BlockView | None:
        return await self._reader.block(number)

    async def verify(self) -> VerifyReport:
        return await self._reader.verify()


class FabricOrgLedgers(OrgLedgers):
    """One ``FabricLedger`` per member, each with its own identity."""

    def __init__(self, ledgers: Mapping[str, FabricLedger], network: Network) -> None:
        super().__init__(ledgers, network)
        self.fabric = dict(ledgers)

    @classmethod
    def connect(
        cls, settings: InfraSettings, channel: str, max_in_flight: int = 64
    ) -> "FabricOrgLedgers":
        """Call inside the event loop; ``close`` when done."""
        network = settings.network
        ledgers = {}
        for org in network.members:
            connections = gateway_connections(settings, org)
            ledgers[org] = FabricLedger.connect(
                own_identity(connections, org),
                peers(connections),
                channel=channel,
                max_in_flight=max_in_flight,
            )
        return cls(ledgers, network)

    def client_for(self, org: str) -> GatewayClient:
        """The connection that signs for ``org``: its host's own peer, with its identity."""
        host = self._network.host_of(org) or org
        return self.fabric[host].signing_client

    async def transfer_ids(self, index: str, value: str) -> list[str]:
        return await self.fabric[self._network.members[0]].transfer_ids(index, value)

    async def close(self) -> None:
        for ledger in self.fabric.values():
            await ledger.close()


def scratch_keys(network: Network) -> tuple[Membership, dict[str, CommandSigner]]:
    """Fresh signing keys for every member, and the membership that knows them."""
    keys = {org: Ed25519PrivateKey.generate() for org in network.members}
    membership = Membership({org: key.public_key() for org, key in keys.items()})
    return membership, {org: CommandSigner(org, key) for org, key in keys.items()}


def open_embedded(path: Path, network: Network) -> tuple[OrgLedgers, list[EmbeddedLedgerPort]]:
    """Each member's signing port on one embedded ledger file, with scratch keys."""
    membership, signers = scratch_keys(network)
    ports = {
        org: EmbeddedLedgerPort(EmbeddedLedger(path, network, membership), signer)
        for org, signer in signers.items()
    }
    return OrgLedgers(ports, network), list(ports.values())


@contextlib.asynccontextmanager
async def fabric_org_ledgers(
    settings: InfraSettings, channel: str, max_in_flight: int = 64
) -> AsyncIterator[FabricOrgLedgers]:
    """Every member's ``FabricLedger``; entered inside the event loop."""
    ledgers = FabricOrgLedgers.connect(settings, channel, max_in_flight)
    try:
        yield ledgers
    finally:
        await ledgers.close()
