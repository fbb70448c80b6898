"""The ledger port: what the gateway needs from a ledger, embedded or Fabric."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ledger_gateway.chaincode import ContractError
from schemas import LedgerCommand, LedgerHistoryItem, SafeguardAudit, Transfer, TxResult


@dataclass(frozen=True, slots=True)
class Committed:
    """The command's transaction is on the ledger (now, or already: ``replayed``)."""

    command: LedgerCommand
    result: TxResult
    tx_id: str
    block_number: int
    replayed: bool


@dataclass(frozen=True, slots=True)
class Rejected:
    command: LedgerCommand
    error: ContractError


Outcome = Committed | Rejected


@dataclass(frozen=True, slots=True)
class CommittedTx:
    """One committed transaction as the block stream reports it."""

    block_number: int
    position: int
    tx_id: str
    timestamp: datetime
    command: LedgerCommand
    result: TxResult
    # The member that signed it (None: committed before commands were signed).
    signer: str | None = None


@dataclass(frozen=True, slots=True)
class SignedPage:
    """A member's own committed transactions after a position, and how far the ledger was
    read to find them: the next page starts after ``frontier`` (None: nothing was there)."""

    txs: list[CommittedTx]
    frontier: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class BlockView:
    number: int
    previous_hash: str
    merkle_root: str
    timestamp: str
    hash: str
    tx_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    blocks_checked: int
    first_bad_block: int | None = None
    problem: str | None = None


class Ledger(Protocol):
    """What the gateway and the Blockchain API need; both adapters implement it."""

    async def submit(self, commands: list[LedgerCommand]) -> list[Outcome]: ...

    async def committed_after(
        self, block_number: int, position: int = -1, limit: int = 1000
    ) -> list[CommittedTx]: ...

    async def transfer(self, transfer_id: str) -> Transfer | None: ...

    async def history(self, transfer_id: str) -> list[LedgerHistoryItem]: ...

    async def safeguard_audit(self, org_id: str, at: datetime) -> SafeguardAudit: ...

    async def height(self) -> int: ...

    async def block(self, number: int) -> BlockView | None: ...

    async def verify(self) -> VerifyReport: ...
