"""Blocks from a peer: its Deliver service (full blocks) and the qscc query chaincode.

``parse_block`` turns a ``common.Block`` into its header and its transactions, each with
the validation code the committing peer recorded in the TRANSACTIONS_FILTER metadata.
"""

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

import grpc
from fabric_protos.common import common_pb2, ledger_pb2
from fabric_protos.peer import transaction_pb2

from ledger_gateway.fabric.chain import header_hash
from ledger_gateway.fabric.errors import (
    GatewayError,
    LedgerUnavailable,
    MalformedTransaction,
    translate,
)
from ledger_gateway.fabric.gateway_client import GatewayClient, validation_code_name
from ledger_gateway.fabric.proposals import seek_envelope
from ledger_gateway.fabric.transactions import TxView, parse_envelope
from ledger_gateway.port import BlockView

QSCC = "qscc"
_NOT_VALIDATED = transaction_pb2.NOT_VALIDATED
_UNAVAILABLE_STATUSES = {common_pb2.SERVICE_UNAVAILABLE, common_pb2.INTERNAL_SERVER_ERROR}
_STATUS_NAMES = {int(value): name for name, value in common_pb2.Status.items()}


@dataclass(frozen=True, slots=True)
class BlockTx:
    position: int
    validation_code: str
    tx: TxView | None  # None: the envelope is not a readable transaction

    @property
    def valid(self) -> bool:
        return self.validation_code == "VALID"


@dataclass(frozen=True, slots=True)
class ParsedBlock:
    number: int
    previous_hash: bytes
    data_hash: bytes
    hash: bytes
    transactions: tuple[BlockTx, ...]

    def view(self) -> BlockView:
        first = next((t.tx for t in self.transactions if t.tx is not None), None)
        return BlockView(
            number=self.number,
            previous_hash=self.previous_hash.hex(),
            merkle_root=self.data_hash.hex(),
            timestamp=first.timestamp.isoformat() if first is not None else "",
            hash=self.hash.hex(),
            tx_ids=tuple(t.tx.tx_id if t.tx is not None else "" for t in self.transactions),
        )


def validation_codes(block: common_pb2.Block) -> list[int]:
    metadata = block.metadata.metadata
    index = common_pb2.TRANSACTIONS_FILTER
    flags = metadata[index] if len(metadata) > index else b""
    count = len(block.data.data)
    return [flags[i] if i < len(flags) else _NOT_VALIDATED for i in range(count)]


def parse_block(block: common_pb2.Block) -> ParsedBlock:
    transactions = []
    for position, (data, code) in enumerate(
        zip(block.data.data, validation_codes(block), strict=True)
    ):
        try:
            tx: TxView | None = parse_envelope(data)
        except MalformedTransaction:
            tx = None
        transactions.append(BlockTx(position, validation_code_name(code), tx))
    return ParsedBlock(
        number=block.header.number,
        previous_hash=block.header.previous_hash,
        data_hash=block.header.data_hash,
        hash=header_hash(block.header),
        transactions=tuple(transactions),
    )


class BlockReader:
    """Reads one peer's blocks with the client's identity (a channel reader)."""

    def __init__(self, client: GatewayClient) -> None:
        self._client = client

    async def blocks(
        self, start: int, stop: int | None = -1
    ) -> AsyncGenerator[common_pb2.Block, None]:
        """Blocks from ``start``: up to ``stop``, to the newest now (-1), or forever (None).

        A ``start`` beyond the newest block yields nothing (unless following).
        """
        client = self._client
        call = client.deliver_stub.Deliver()
        try:
            await call.write(seek_envelope(client.identity, client.channel_name, start, stop))
            await call.done_writing()
            async for response in call:
                kind = response.WhichOneof("Type")
                if kind == "block":
                    yield response.block
                elif kind == "status":
                    _check_status(response.status, start)
                    return
        except grpc.aio.AioRpcError as error:
            raise translate(error) from error
        finally:
            call.cancel()

    async def follow(self, start: int) -> AsyncIterator[ParsedBlock]:
        """Parsed blocks from ``start`` as they commit; does not end by itself."""
        async for block in self.blocks(start, None):
            yield parse_block(block)

    async def height(self) -> int:
        """The number of blocks the peer has (the next block's number)."""
        raw = await self._client.evaluate(QSCC, "GetChainInfo", [self._client.channel_name])
        return ledger_pb2.BlockchainInfo.FromString(raw).height

    async def block(self, number: int) -> common_pb2.Block:
        raw = await self._client.evaluate(
            QSCC, "GetBlockByNumber", [self._client.channel_name, str(number)]
        )
        return common_pb2.Block.FromString(raw)

    async def block_number_of(self, tx_id: str) -> int:
        """The number of the block holding ``tx_id`` (raises ``GatewayError`` if none)."""
        raw = await self._client.evaluate(
            QSCC, "GetBlockByTxID", [self._client.channel_name, tx_id]
        )
        return common_pb2.Block.FromString(raw).header.number


def _check_status(status: int, start: int) -> None:
    if status in (common_pb2.SUCCESS, common_pb2.NOT_FOUND):
        return  # NOT_FOUND: no block ``start`` yet, nothing more to read
    name = _STATUS_NAMES.get(status, str(status))
    if status in _UNAVAILABLE_STATUSES:
        raise LedgerUnavailable(None, f"deliver from block {start} ended with {name}")
    raise GatewayError(None, f"deliver from block {start} ended with {name}")
