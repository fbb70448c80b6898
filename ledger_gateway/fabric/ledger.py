"""The Fabric adapter of the ledger port: the transfer chaincode through Fabric Gateways.

``submit`` runs each command as one Fabric transaction, signed with the one client identity
this ledger holds (its organisation's: a gateway never holds another's key; the chaincode
refuses a command whose actor that organisation does not host). Commands of one transfer
(one correlation id) run strictly one after the other; different transfers run
concurrently, at most ``max_in_flight`` at a time. A command counts as committed once
every member peer has committed its block, so the next command of the same transfer is
endorsed against the state it left, whichever peer endorses it (see ``commits``:
``connect`` follows each peer's filtered blocks).

Reads come from the signing organisation's own peer: world state through the chaincode's query
functions, blocks through the Deliver service, block numbers through qscc.
"""

import asyncio
import contextlib
import json
import random
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

import structlog
from pydantic import ValidationError

from ledger_gateway.chaincode import ContractFailure
from ledger_gateway.fabric.blocks import BlockReader, ParsedBlock, parse_block
from ledger_gateway.fabric.chain import data_hash, header_hash
from ledger_gateway.fabric.commits import CommitSource, DeliverCommits, StatusCommits
from ledger_gateway.fabric.errors import (
    CommitConflict,
    CommitFailed,
    ContractRejected,
    GatewayError,
)
from ledger_gateway.fabric.gateway_client import (
    CONFLICTS,
    DEFAULT_TIMEOUTS,
    VALID,
    CommitStatus,
    GatewayClient,
    PeerEndpoint,
    PreparedTx,
    Timeouts,
)
from ledger_gateway.fabric.identity import SigningIdentity
from ledger_gateway.port import (
    BlockView,
    Committed,
    CommittedTx,
    Outcome,
    Rejected,
    VerifyReport,
)
from schemas import (
    LedgerCommand,
    LedgerHistoryItem,
    SafeguardAudit,
    Transfer,
    Transition,
    TxResult,
)

log = structlog.get_logger()

CHAINCODE = "curex-transfer"
CHANNEL = "curex"
TX_EVENT = "curex.transaction"


@dataclass(frozen=True, slots=True)
class FabricPeer:
    """A member organisation's peer."""

    msp_id: str
    endpoint: PeerEndpoint


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Conflicts (MVCC, endorsers that disagree) get ``attempts`` tries; endorsers that
    disagree also get ``disagreement_s``, since they agree once the one behind commits what
    it missed, and a peer that was restarted may need seconds for that; an unreachable or
    failing network is retried for ``unavailable_s`` before ``submit`` gives up."""

    attempts: int = 6
    disagreement_s: float = 30.0
    unavailable_s: float = 120.0
    first_delay_s: float = 0.05
    max_delay_s: float = 2.0

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter, so conflicting transfers spread out."""
        return random.uniform(0, min(self.max_delay_s, self.first_delay_s * 2**attempt))


K = TypeVar("K")
V = TypeVar("V")


class _Lru(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


class FabricLedger:
    def __init__(
        self,
        clients: Mapping[str, GatewayClient],
        *,
        signer_org: str,
        chaincode: str = CHAINCODE,
        max_in_flight: int = 64,
        retry: RetryPolicy = RetryPolicy(),
        commits: Mapping[str, CommitSource] | None = None,
    ) -> None:
        if signer_org not in clients:
            raise ValueError(f"no peer of the signing org {signer_org}: {sorted(clients)}")
        self._clients = dict(clients)
        # Default: each peer's CommitStatus, a signed call per transaction and peer.
        self._commits = dict(commits or {org: StatusCommits(c) for org, c in clients.items()})
        self._signer_org = signer_org
        self._reader_client = self._clients[signer_org]
        self._reader = BlockReader(self._reader_client)
        self._chaincode = chaincode
        self._slots = asyncio.Semaphore(max_in_flight)
        self._retry = retry
        self._tx_blocks: _Lru[str, int] = _Lru(100_000)
        self._parsed: _Lru[int, list[CommittedTx]] = _Lru(256)

    @classmethod
    def connect(
        cls,
        identity: SigningIdentity,
        peers: Sequence[FabricPeer],
        *,
        channel: str = CHANNEL,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        max_in_flight: int = 64,
    ) -> "FabricLedger":
        """Opens a gateway connection to each member's peer with ``identity``, and follows
        each peer's filtered blocks to learn of commits; call inside the event loop."""
        clients = {p.msp_id: GatewayClient(p.endpoint, identity, channel, timeouts) for p in peers}
        return cls(
            clients,
            signer_org=identity.msp_id,
            max_in_flight=max_in_flight,
            commits={org: DeliverCommits(client) for org, client in clients.items()},
        )

    async def close(self) -> None:
        await asyncio.gather(*(source.close() for source in self._commits.values()))
        await asyncio.gather(*(client.close() for client in self._clients.values()))

    @property
    def signer_org(self) -> str:
        return self._signer_org

    @property
    def signing_client(self) -> GatewayClient:
        """The connection to this organisation's own peer, with its identity."""
        return self._clients[self._signer_org]

    # ---- writes ---------------------------------------------------------------------

    async def submit(self, commands: list[LedgerCommand]) -> list[Outcome]:
        """Outcomes in input order; raises only when the network stays unreachable."""
        chains: dict[str, list[int]] = {}
        for index, command in enumerate(commands):
            chains.setdefault(command.correlation_id, []).append(index)
        outcomes: list[Outcome | None] = [None] * len(commands)

        async def run_chain(indexes: list[int]) -> None:
            for index in indexes:
                outcomes[index] = await self._submit_one(commands[index])

        try:
            async with asyncio.TaskGroup() as group:
                for indexes in chains.values():
                    group.create_task(run_chain(indexes))
        except* (GatewayError, CommitConflict) as failures:
            raise failures.exceptions[0] from None
        return [outcome for outcome in outcomes if outcome is not None]

    async def _submit_one(self, command: LedgerCommand) -> Outcome:
        member = self._signer_org
        payload = command.model_dump_json()
        started = time.monotonic()
        give_up_at = started + self._retry.unavailable_s
        attempt = 0
        while True:
            try:
                async with self._slots:
                    return await self._attempt(member, command, payload)
            except ContractRejected as rejected:  # only a refusal some endorser contradicted
                disagreed_s = time.monotonic() - started
                if (
                    attempt + 1 >= self._retry.attempts
                    and disagreed_s >= self._retry.disagreement_s
                ):
                    return Rejected(command, rejected.contract_error())
                reason = rejected.contract_code
            except CommitConflict as conflict:
                if attempt + 1 >= self._retry.attempts:
                    raise
                reason = conflict.validation_code
            except GatewayError as error:
                if not error.retriable or time.monotonic() >= give_up_at:
                    raise
                reason = error.code.name if error.code is not None else type(error).__name__
            attempt += 1
            log.info(
                "fabric transaction retried",
                event_id=str(command.event_id),
                attempt=attempt,
                reason=reason,
            )
            await asyncio.sleep(self._retry.delay(attempt))

    async def _attempt(self, member: str, command: LedgerCommand, payload: str) -> Outcome:
        client = self._clients[member]
        # The submitter's peer first: its status is the one reported.
        sources = [self._commits[member], *(s for o, s in self._commits.items() if o != member)]
        for source in sources:
            await source.ready()
        try:
            prepared = await client.endorse(self._chaincode, "submit", [payload])
        except ContractRejected as rejected:
            if rejected.retriable:
                raise
            return Rejected(command, rejected.contract_error())
        try:
            result = TxResult.model_validate_json(prepared.result)
        except ValidationError as error:
            return Rejected(command, ContractFailure(f"unreadable chaincode result: {error}"))
        if result.tx_id != prepared.tx_id:
            # The contract recognised the event id: the command is on the ledger already.
            block = await self._block_number_of(result.tx_id, client)
            return Committed(command, result, result.tx_id, block, replayed=True)
        status = await self._submit_and_wait(client, sources, prepared)
        if status.validation_code in CONFLICTS:
            raise CommitConflict(prepared.tx_id, status.validation_code)
        if status.validation_code != VALID:
            failed = CommitFailed(prepared.tx_id, status.validation_code)
            log.error(
                "fabric transaction invalidated",
                tx_id=prepared.tx_id,
                event_id=str(command.event_id),
                code=status.validation_code,
            )
            return Rejected(command, ContractFailure(str(failed)))
        self._tx_blocks.put(prepared.tx_id, status.block_number)
        return Committed(command, result, prepared.tx_id, status.block_number, replayed=False)

    @staticmethod
    async def _submit_and_wait(
        client: GatewayClient, sources: Sequence[CommitSource], prepared: PreparedTx
    ) -> CommitStatus:
        """Submits, then waits until every member peer has committed: the first's status."""
        watches = [source.watch(prepared.tx_id) for source in sources]
        try:
            await client.submit(prepared)
            statuses = [await watch.result() for watch in watches]
        finally:
            for watch in watches:
                watch.cancel()
        return statuses[0]

    async def _block_number_of(self, tx_id: str, client: GatewayClient | None = None) -> int:
        cached = self._tx_blocks.get(tx_id)
        if cached is not None:
            return cached
        reader = BlockReader(client) if client is not None else self._reader
        for attempt in range(self._retry.attempts):
            try:
                number = await reader.block_number_of(tx_id)
                break
            except GatewayError:
                # Evaluated on a peer that has not committed the block yet: ask again.
                if attempt + 1 == self._retry.attempts:
                    raise
                await asyncio.sleep(self._retry.delay(attempt + 2))
        self._tx_blocks.put(tx_id, number)
        return number

    # ---- reads ----------------------------------------------------------------------

    async def height(self) -> int:
        return await self._reader.height()

    async def transfer(self, transfer_id: str) -> Transfer | None:
        raw = await self._reader_client.evaluate(self._chaincode, "transfer", [transfer_id])
        return Transfer.model_validate_json(raw) if raw else None

    async def transfer_ids(self, index: str, value: str) -> list[str]:
        raw = await self._reader_client.evaluate(self._chaincode, "transfer_ids", [index, value])
        return [str(item) for item in json.loads(raw)] if raw else []

    async def history(self, transfer_id: str) -> list[LedgerHistoryItem]:
        raw = await self._reader_client.evaluate(self._chaincode, "history", [transfer_id])
        entries = json.loads(raw) if raw else []
        blocks = await asyncio.gather(
            *(self._block_number_of(str(entry["tx_id"])) for entry in entries)
        )
        return [
            LedgerHistoryItem(
                tx_id=str(entry["tx_id"]),
                block_number=block,
                transition=Transition.model_validate(entry["transition"]),
            )
            for entry, block in zip(entries, blocks, strict=True)
        ]

    async def safeguard_audit(self, org_id: str, at: datetime) -> SafeguardAudit:
        raw = await self._reader_client.evaluate(
            self._chaincode, "safeguard_audit", [org_id, at.isoformat()]
        )
        return SafeguardAudit.model_validate_json(raw)

    async def block(self, number: int) -> BlockView | None:
        if number < 0 or number >= await self.height():
            return None
        return parse_block(await self._reader.block(number)).view()

    async def committed_after(
        self, block_number: int, position: int = -1, limit: int = 1000
    ) -> list[CommittedTx]:
        """Committed transfer transactions after (block, position), in ledger order."""
        after = (block_number, position)
        found: list[CommittedTx] = []
        number = max(block_number, 0)
        while (cached := self._parsed.get(number)) is not None:
            found += [tx for tx in cached if (tx.block_number, tx.position) > after]
            if len(found) >= limit:
                return found[:limit]
            number += 1
        async with contextlib.aclosing(self._reader.blocks(number, -1)) as blocks:
            async for raw in blocks:
                committed = self._committed_in(parse_block(raw))
                self._parsed.put(raw.header.number, committed)
                found += [tx for tx in committed if (tx.block_number, tx.position) > after]
                if len(found) >= limit:
                    break
        return found[:limit]

    def _committed_in(self, block: ParsedBlock) -> list[CommittedTx]:
        committed = []
        for entry in block.transactions:
            tx = entry.tx
            if (
                not entry.valid
                or tx is None
                or tx.chaincode != self._chaincode
                or tx.function != "submit"
                or len(tx.args) < 2
                or tx.event is None
                or tx.event.name != TX_EVENT
            ):
                continue
            try:
                command = LedgerCommand.model_validate_json(tx.args[1])
                result = TxResult.model_validate_json(tx.event.payload)
            except ValidationError:
                log.warning(
                    "unreadable transfer transaction skipped",
                    block=block.number,
                    position=entry.position,
                    tx_id=tx.tx_id,
                )
                continue
            committed.append(
                CommittedTx(
                    block.number,
                    entry.position,
                    tx.tx_id,
                    tx.timestamp,
                    command,
                    result,
                    signer=tx.creator_msp_id,
                )
            )
        return committed

    # ---- integrity ------------------------------------------------------------------

    async def verify(self) -> VerifyReport:
        """Recomputes every block's data hash and its link to the previous block."""
        checked = 0
        previous: bytes | None = None
        async with contextlib.aclosing(self._reader.blocks(0, -1)) as blocks:
            async for block in blocks:
                header = block.header
                problem = None
                if header.number != checked:
                    problem = f"block number {header.number} out of order"
                elif data_hash(block.data) != header.data_hash:
                    problem = "data hash does not match the transactions"
                elif previous is not None and header.previous_hash != previous:
                    problem = "previous hash does not match the preceding block"
                if problem is not None:
                    return VerifyReport(False, checked, checked, problem)
                previous = header_hash(header)
                checked += 1
        return VerifyReport(True, checked)
