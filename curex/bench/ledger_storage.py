"""What the embedded ledger stores per transaction, on the workflow's own path.

Transfers go the emergency path (create, risk audit, consent bypass, data available), as
the processors drive it, on a scratch ledger file; then SQLite's ``dbstat`` gives the
bytes of every table and index. The baseline, in the same run: the plain documents those
transactions are (bodies, the values they wrote as history, world state), unencoded.
"""

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import orjson

from curex.bench.errors import BenchError
from curex.bench.ledger_workload import REQUESTING, SOURCE, creates, seed_commands
from curex.org_ledgers import open_embedded
from infra.settings import InfraSettings
from ledger_gateway.embedded.codec import unpack
from ledger_gateway.port import Committed
from processors.intake import system_actor
from schemas import Action, ApplyActionTx, AuditRiskTx, LedgerCommand

_BATCH = 100


@dataclass(frozen=True, slots=True)
class StorageFigures:
    transactions: int
    bytes_by_object: dict[str, int]  # table or index -> bytes on disk
    plain_bytes: int  # the bodies and written values as plain documents

    @property
    def per_transaction(self) -> float:
        return sum(self.bytes_by_object.values()) / self.transactions

    @property
    def plain_per_transaction(self) -> float:
        return self.plain_bytes / self.transactions


def _path_commands(transfer_ids: list[str]) -> list[list[LedgerCommand]]:
    """The three steps after a create, each for every transfer, as the processors send them."""

    def step(org: str, tx: AuditRiskTx | ApplyActionTx, transfer_id: str) -> LedgerCommand:
        return LedgerCommand(correlation_id=transfer_id, actor=system_actor(org), tx=tx)

    return [
        [step(REQUESTING, AuditRiskTx(transfer_id=t), t) for t in transfer_ids],
        [
            step(REQUESTING, ApplyActionTx(transfer_id=t, action=Action.BYPASS_CONSENT), t)
            for t in transfer_ids
        ],
        [
            step(SOURCE, ApplyActionTx(transfer_id=t, action=Action.DECLARE_AVAILABLE), t)
            for t in transfer_ids
        ],
    ]


async def measure_storage(scratch: Path, transfers: int) -> StorageFigures:
    path = scratch / "storage.sqlite"
    ledgers, ports = open_embedded(path, InfraSettings().network)
    committed = 0
    try:
        created = creates(transfers)
        steps = [seed_commands(), created, *_path_commands([c.correlation_id for c in created])]
        for commands in steps:
            for start in range(0, len(commands), _BATCH):
                outcomes = await ledgers.submit(commands[start : start + _BATCH])
                refused = [o for o in outcomes if not isinstance(o, Committed)]
                if refused:
                    raise BenchError(f"the storage run was refused: {refused[0]}")
                committed += len(outcomes)
    finally:
        for port in ports:
            port.close()
    return _figures(path, committed)


def _figures(path: Path, transactions: int) -> StorageFigures:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        by_object = {
            str(name): int(size)
            for name, size in conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
        }
        plain = 0
        for (body,) in conn.execute("SELECT body FROM transactions"):
            document = unpack(bytes(body))
            # The body, and each value it wrote as a plain history row would hold it.
            plain += len(document) + sum(len(v) for _, v in orjson.loads(document)["writes"])
        plain += sum(
            len(unpack(bytes(value))) for (value,) in conn.execute("SELECT value FROM world_state")
        )
    finally:
        conn.close()
    return StorageFigures(transactions, by_object, plain)
