"""The embedded ledger: the transfer contract over SQLite, in hash-chained blocks.

Each ``submit`` call takes one organisation's signed batch, authenticates it against the
members' registered keys, executes the commands in order and commits those that succeed
as one block (previous hash, Merkle root of the block's transactions, timestamp) with the
batch's signature, together with world state and history, in a single SQLite transaction
that holds the write lock from the first read: each organisation's gateway writes the same
file. ``verify`` recomputes the chain from the stored transactions, checks that every
signed block's transactions are among the digests its signer signed, and recomputes world
state and history by running every transaction again (``replay``).
"""

import fcntl
import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

import orjson
from pydantic import TypeAdapter

from ledger_gateway.chaincode import (
    RULES_VERSION,
    ContractError,
    ContractFailure,
    TransferContract,
)
from ledger_gateway.embedded.blocks import GENESIS_PREVIOUS_HASH, block_hash, merkle_root
from ledger_gateway.embedded.codec import is_packed, pack, unpack
from ledger_gateway.embedded.recent import RecentCommits
from ledger_gateway.embedded.replay import (
    HistoryInOrder,
    replay_problem,
    state_problem,
)
from ledger_gateway.embedded.signing import Membership, SignedBatch, stored_command_digest
from ledger_gateway.embedded.store import IN_BODY, PendingState, TxStateStore
from ledger_gateway.port import (
    BlockView,
    Committed,
    CommittedTx,
    Outcome,
    Rejected,
    SignedPage,
    VerifyReport,
)
from schemas import LedgerHistoryItem, SafeguardAudit, Transfer
from schemas.network import Network

_SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (
    number INTEGER PRIMARY KEY,
    previous_hash TEXT NOT NULL,
    merkle_root TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transactions (
    tx_id TEXT PRIMARY KEY,
    block_number INTEGER NOT NULL,
    position INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_by_block ON transactions (block_number, position);
CREATE TABLE IF NOT EXISTS world_state (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS history (
    key TEXT NOT NULL,
    block_number INTEGER NOT NULL,
    position INTEGER NOT NULL,
    tx_id TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    value BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_key ON history (key, block_number, position);
CREATE TABLE IF NOT EXISTS block_signatures (
    block_number INTEGER PRIMARY KEY,
    signer TEXT NOT NULL,
    signature BLOB NOT NULL,
    digests BLOB NOT NULL
);
"""

Clock = Callable[[], datetime]


def tx_id_for(event_id: str) -> str:
    """Deterministic, so a resubmitted command maps to the same transaction id."""
    return sha256(f"curex-tx:{event_id}".encode()).hexdigest()


def _canonical(document: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace: the exact bytes that are hashed into the block."""
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


# A stored body holds more (the writes); what the block stream needs is read, the rest ignored.
_STORED_TX = TypeAdapter(CommittedTx)


def _parse_body(body: bytes) -> CommittedTx:
    return _STORED_TX.validate_json(body)


class EmbeddedLedger:
    def __init__(
        self,
        path: Path,
        network: Network,
        membership: Membership,
        clock: Clock = lambda: datetime.now(UTC),
        recent: RecentCommits | None = None,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Another gateway may hold the write lock for a batch: wait for it, never fail.
        self._conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=60.0
        )
        # Writers queue on this lock, not on SQLite's busy handler, which sleeps up to 100 ms
        # between tries: the other gateway's batch would wait that long for the write lock.
        self._write_lock_path = path.with_name(path.name + ".write-lock")
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)
        self._network = network
        self._membership = membership
        self._clock = clock
        # What this writer commits, handed to the block publisher of the same process.
        self._recent = recent

    def close(self) -> None:
        self._conn.close()

    # ---- writes ---------------------------------------------------------------------

    def submit(self, batch: SignedBatch) -> list[Outcome]:
        digests = batch.digests
        try:
            signer = self._membership.authenticate(batch, digests)
        except ContractError as error:
            return [Rejected(command, error) for command in batch.commands]
        with self._write_lock_path.open("a+b") as write_lock:
            fcntl.flock(write_lock, fcntl.LOCK_EX)  # released when the file is closed
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                outcomes, committed = self._execute_block(batch, signer, digests)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        if self._recent is not None:
            self._recent.remember(committed)
        return outcomes

    def _execute_block(
        self, batch: SignedBatch, signer: str, digests: list[bytes]
    ) -> tuple[list[Outcome], list[CommittedTx]]:
        number, previous_hash = self._next_block()
        committed: list[CommittedTx] = []
        pending = PendingState()
        outcomes: list[Outcome] = []
        bodies: list[tuple[str, bytes, dict[str, bytes], datetime]] = []
        pending_blocks: dict[str, int] = {}
        for command in batch.commands:
            tx_id = tx_id_for(str(command.event_id))
            timestamp = self._clock()
            store = TxStateStore(self._conn, pending, tx_id, timestamp)
            try:
                result = TransferContract(store, self._network).submit(
                    str(command.event_id), command.actor, command.tx, signer
                )
            except ContractError as error:
                outcomes.append(Rejected(command, error))
                continue
            except Exception as error:  # noqa: BLE001 - one bad command must not halt the ledger
                outcomes.append(Rejected(command, ContractFailure(repr(error))))
                continue
            if not store.writes:
                original = pending_blocks.get(result.tx_id)
                if original is None:
                    original = self._block_of(result.tx_id)
                outcomes.append(Committed(command, result, result.tx_id, original, replayed=True))
                continue
            pending.merge(tx_id, timestamp, store.writes)
            body = _canonical(
                {
                    "block_number": number,
                    "position": len(bodies),
                    "tx_id": tx_id,
                    "timestamp": timestamp.isoformat(),
                    "command": command.model_dump(mode="json"),
                    "signer": signer,
                    "result": result.model_dump(mode="json"),
                    "rules": RULES_VERSION,
                    # The contract's values are JSON text: kept as text, they compress.
                    "writes": sorted([k, v.decode()] for k, v in store.writes.items()),
                }
            )
            committed.append(
                CommittedTx(number, len(bodies), tx_id, timestamp, command, result, signer)
            )
            bodies.append((tx_id, body, store.writes, timestamp))
            pending_blocks[tx_id] = number
            outcomes.append(Committed(command, result, tx_id, number, replayed=False))
        if bodies:
            self._write_block(number, previous_hash, bodies)
            self._conn.execute(
                "INSERT INTO block_signatures VALUES (?, ?, ?, ?)",
                (number, signer, batch.signature, b"".join(digests)),
            )
        return outcomes, committed

    def _next_block(self) -> tuple[int, str]:
        row = self._conn.execute(
            "SELECT number, hash FROM blocks ORDER BY number DESC LIMIT 1"
        ).fetchone()
        return (0, GENESIS_PREVIOUS_HASH) if row is None else (int(row[0]) + 1, str(row[1]))

    def _block_of(self, tx_id: str) -> int:
        row = self._conn.execute(
            "SELECT block_number FROM transactions WHERE tx_id = ?", (tx_id,)
        ).fetchone()
        if row is None:  # the idempotency record exists, so its transaction must too
            raise LookupError(f"transaction {tx_id} is recorded as processed but not stored")
        return int(row[0])

    def _write_block(
        self,
        number: int,
        previous_hash: str,
        bodies: list[tuple[str, bytes, dict[str, bytes], datetime]],
    ) -> None:
        """Stores the block, its transactions, world state and history: inside ``submit``'s
        transaction, so all of it commits or none."""
        timestamp = self._clock().isoformat()
        root = merkle_root([body for _, body, _, _ in bodies])
        conn = self._conn
        conn.execute(
            "INSERT INTO blocks VALUES (?, ?, ?, ?, ?)",
            (
                number,
                previous_hash,
                root,
                timestamp,
                block_hash(number, previous_hash, root, timestamp),
            ),
        )
        conn.executemany(
            "INSERT INTO transactions VALUES (?, ?, ?, ?)",
            [
                (tx_id, number, position, pack(body))
                for position, (tx_id, body, _, _) in enumerate(bodies)
            ],
        )
        # A later transaction of the block overwrites an earlier one's value.
        latest = {key: value for _, _, writes, _ in bodies for key, value in writes.items()}
        conn.executemany(
            "INSERT INTO world_state VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [(key, pack(value)) for key, value in latest.items()],
        )
        # A history row points at its transaction (block, position), whose body holds the
        # tx id, the time and the value written.
        conn.executemany(
            "INSERT INTO history VALUES (?, ?, ?, '', '', ?)",
            [
                (key, number, position, IN_BODY)
                for position, (_, _, writes, _) in enumerate(bodies)
                for key in writes
            ],
        )

    # ---- reads ----------------------------------------------------------------------

    def height(self) -> int:
        """Number of blocks (the next block's number)."""
        return self._next_block()[0]

    def signed_after(
        self, signer: str, with_unsigned: bool, after: tuple[int, int], limit: int
    ) -> SignedPage:
        """``signer``'s committed transactions after ``after`` (and those no member signed,
        if ``with_unsigned``), in ledger order; the frontier covers everyone's."""
        self._conn.execute("BEGIN")  # one snapshot for the page and its frontier
        try:
            rows = self._conn.execute(
                "SELECT t.block_number, t.position, t.tx_id, t.body FROM transactions t "
                "LEFT JOIN block_signatures s ON s.block_number = t.block_number "
                "WHERE (t.block_number, t.position) > (?, ?) "
                "AND (s.signer = ? OR (s.signer IS NULL AND ?)) "
                "ORDER BY t.block_number, t.position LIMIT ?",
                (*after, signer, with_unsigned, limit),
            ).fetchall()
            if len(rows) == limit:
                last = (int(rows[-1][0]), int(rows[-1][1]))
            else:
                last = self._conn.execute(
                    "SELECT block_number, position FROM transactions "
                    "ORDER BY block_number DESC, position DESC LIMIT 1"
                ).fetchone()
        finally:
            self._conn.execute("COMMIT")
        frontier = None if last is None or tuple(last) <= after else (int(last[0]), int(last[1]))
        txs = [self._committed_tx(str(tx_id), bytes(body)) for _, _, tx_id, body in rows]
        return SignedPage(txs, frontier)

    def _committed_tx(self, tx_id: str, stored_body: bytes) -> CommittedTx:
        cached = self._recent.take(tx_id) if self._recent is not None else None
        return cached if cached is not None else _parse_body(unpack(stored_body))

    def committed_after(
        self, block_number: int, position: int = -1, limit: int = 1000
    ) -> list[CommittedTx]:
        """Committed transactions after (block, position), in ledger order."""
        rows = self._conn.execute(
            "SELECT body FROM transactions WHERE (block_number, position) > (?, ?) "
            "ORDER BY block_number, position LIMIT ?",
            (block_number, position, limit),
        ).fetchall()
        return [_parse_body(unpack(bytes(row[0]))) for row in rows]

    def _read_contract(self) -> TransferContract:
        return TransferContract(TxStateStore(self._conn, PendingState(), "", self._clock()))

    def block(self, number: int) -> BlockView | None:
        row = self._conn.execute(
            "SELECT number, previous_hash, merkle_root, timestamp, hash FROM blocks "
            "WHERE number = ?",
            (number,),
        ).fetchone()
        if row is None:
            return None
        tx_ids = [
            str(tx_id)
            for (tx_id,) in self._conn.execute(
                "SELECT tx_id FROM transactions WHERE block_number = ? ORDER BY position",
                (number,),
            )
        ]
        return BlockView(
            number=int(row[0]),
            previous_hash=str(row[1]),
            merkle_root=str(row[2]),
            timestamp=str(row[3]),
            hash=str(row[4]),
            tx_ids=tuple(tx_ids),
        )

    def transfer(self, transfer_id: str) -> Transfer | None:
        return self._read_contract().transfer(transfer_id)

    def history(self, transfer_id: str) -> list[LedgerHistoryItem]:
        return [
            LedgerHistoryItem(
                tx_id=tx_id, block_number=self._block_of(tx_id), transition=transition
            )
            for tx_id, transition in self._read_contract().history(transfer_id)
        ]

    def transfer_ids(self, index: str, value: str) -> list[str]:
        return self._read_contract().transfer_ids(index, value)

    def safeguard_audit(self, org_id: str, at: datetime) -> SafeguardAudit:
        return self._read_contract().safeguard_audit(org_id, at)

    # ---- integrity ------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Recompute every block from its stored transactions; name the first altered one."""
        # One read transaction: a consistent snapshot while the gateway keeps writing.
        self._conn.execute("BEGIN")
        try:
            return self._verify_snapshot()
        finally:
            self._conn.execute("COMMIT")

    def _verify_snapshot(self) -> VerifyReport:
        expected_previous = GENESIS_PREVIOUS_HASH
        checked = 0
        history = HistoryInOrder(self._conn)
        blocks = self._conn.execute(
            "SELECT number, previous_hash, merkle_root, timestamp, hash FROM blocks ORDER BY number"
        ).fetchall()
        for expected_number, (number, previous_hash, root, timestamp, stored_hash) in enumerate(
            blocks
        ):
            problem = self._block_problem(
                expected_number,
                expected_previous,
                number,
                previous_hash,
                root,
                timestamp,
                stored_hash,
            ) or self._replay_problem(expected_number, history)
            if problem is not None:
                return VerifyReport(False, checked, expected_number, problem)
            expected_previous = str(stored_hash)
            checked += 1
        orphans = self._conn.execute(
            "SELECT MIN(block_number) FROM transactions WHERE block_number >= ?", (len(blocks),)
        ).fetchone()[0]
        if orphans is not None:
            return VerifyReport(False, checked, int(orphans), "transactions outside any block")
        state = state_problem(self._conn, history)
        if state is not None:
            return VerifyReport(False, checked, *state)
        return VerifyReport(True, checked)

    def _replay_problem(self, number: int, history: HistoryInOrder) -> str | None:
        """The block's transactions run again through the contract (see ``replay``)."""
        for (body,) in self._conn.execute(
            "SELECT body FROM transactions WHERE block_number = ? ORDER BY position", (number,)
        ).fetchall():
            try:
                document = json.loads(unpack(bytes(body)))
            except ValueError:
                return "a transaction of the block is not readable"
            # Bodies stored before they were packed hold their writes in base64.
            problem = replay_problem(self._conn, document, history, not is_packed(bytes(body)))
            if problem is not None:
                return problem
        return None

    def _signed_digests(self, number: int) -> tuple[str, frozenset[bytes]] | None:
        """The block's signer and the digests it signed; None for a block from before
        batches were signed. A signature that does not verify signs nothing."""
        row = self._conn.execute(
            "SELECT signer, signature, digests FROM block_signatures WHERE block_number = ?",
            (number,),
        ).fetchone()
        if row is None:
            return None
        signer, signature, joined = str(row[0]), bytes(row[1]), bytes(row[2])
        digests = [joined[i : i + 32] for i in range(0, len(joined), 32)]
        if not self._membership.verifies(signer, signature, digests):
            return signer, frozenset()
        return signer, frozenset(digests)

    def _block_problem(
        self,
        expected_number: int,
        expected_previous: str,
        number: object,
        previous_hash: object,
        root: object,
        timestamp: object,
        stored_hash: object,
    ) -> str | None:
        if number != expected_number:
            return f"block number {number!r} where {expected_number} was expected"
        if previous_hash != expected_previous:
            return "previous hash does not match the preceding block"
        rows = self._conn.execute(
            "SELECT tx_id, position, body FROM transactions WHERE block_number = ? "
            "ORDER BY position",
            (expected_number,),
        ).fetchall()
        try:
            bodies = [unpack(bytes(body)) for _, _, body in rows]
        except ValueError:
            return "a transaction of the block is not readable"
        if merkle_root(bodies) != root:
            return "Merkle root does not match the block's transactions"
        signed = self._signed_digests(expected_number)
        for (tx_id, position, _), body in zip(rows, bodies, strict=True):
            try:
                document = json.loads(body)
            except ValueError:
                return f"transaction {tx_id!r} is not readable"
            if (document.get("tx_id"), document.get("block_number"), document.get("position")) != (
                tx_id,
                expected_number,
                position,
            ):
                return f"transaction {tx_id!r} is filed under the wrong id or place"
            if signed is not None and (
                document.get("signer") != signed[0]
                or stored_command_digest(document.get("command")) not in signed[1]
            ):
                return f"transaction {tx_id!r} is not among what its block's signer signed"
        if (
            not isinstance(timestamp, str)
            or block_hash(expected_number, str(previous_hash), str(root), timestamp) != stored_hash
        ):
            return "block hash does not match the block header"
        return None
