"""DeliverCommits against an in-process fake peer's DeliverFiltered service over TLS."""

import asyncio
import socket
from collections.abc import AsyncIterator

import grpc
import pytest
from fabric_protos.common import common_pb2
from fabric_protos.orderer import ab_pb2
from fabric_protos.peer import events_pb2, events_pb2_grpc, transaction_pb2

from ledger_gateway.fabric.commits import DeliverCommits
from ledger_gateway.fabric.errors import LedgerUnavailable
from ledger_gateway.fabric.gateway_client import CommitStatus, GatewayClient, PeerEndpoint, Timeouts
from tests.unit.fabric_material import make_identity
from tests.unit.test_fabric_gateway_client import SERVER_NAME, _tls_material

Block = list[tuple[str, int]]  # (tx id, validation code)


class FilteredPeer(events_pb2_grpc.DeliverServicer):
    """Filtered blocks as they are appended; ``break_streams`` ends every open stream."""

    def __init__(self) -> None:
        self.blocks: list[Block] = [[("genesis", transaction_pb2.VALID)]]
        self.starts: list[int | str] = []  # where each stream began: a number or "newest"
        self._changed = asyncio.Condition()
        self._generation = 0

    async def append(self, *txs: tuple[str, int]) -> int:
        async with self._changed:
            self.blocks.append(list(txs))
            self._changed.notify_all()
        return len(self.blocks) - 1

    async def break_streams(self) -> None:
        async with self._changed:
            self._generation += 1
            self._changed.notify_all()

    async def DeliverFiltered(self, request_iterator, context):  # type: ignore[no-untyped-def]
        envelope = await anext(aiter(request_iterator))
        seek = ab_pb2.SeekInfo.FromString(common_pb2.Payload.FromString(envelope.payload).data)
        newest = seek.start.HasField("newest")
        self.starts.append("newest" if newest else seek.start.specified.number)
        number = len(self.blocks) - 1 if newest else seek.start.specified.number
        generation = self._generation
        while True:
            async with self._changed:
                await self._changed.wait_for(
                    lambda n=number: n < len(self.blocks) or self._generation != generation
                )
                if self._generation != generation:
                    await context.abort(grpc.StatusCode.UNAVAILABLE, "peer restarting")
                txs = self.blocks[number]
            yield events_pb2.DeliverResponse(
                filtered_block=events_pb2.FilteredBlock(
                    channel_id="curex",
                    number=number,
                    filtered_transactions=[
                        events_pb2.FilteredTransaction(txid=tx_id, tx_validation_code=code)
                        for tx_id, code in txs
                    ],
                )
            )
            number += 1


def _client(port: int, certificate: bytes, timeouts: Timeouts) -> GatewayClient:
    endpoint = PeerEndpoint(f"127.0.0.1:{port}", certificate, SERVER_NAME)
    return GatewayClient(endpoint, make_identity(), "curex", timeouts)


@pytest.fixture
async def peer() -> AsyncIterator[tuple[FilteredPeer, GatewayClient]]:
    fake = FilteredPeer()
    certificate, key = _tls_material()
    server = grpc.aio.server()
    events_pb2_grpc.add_DeliverServicer_to_server(fake, server)
    port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials([(key, certificate)]))
    await server.start()
    client = _client(port, certificate, Timeouts(evaluate_s=5, commit_status_s=5))
    yield fake, client
    await client.close()
    await server.stop(None)


async def test_a_transaction_is_settled_by_the_block_that_holds_it(
    peer: tuple[FilteredPeer, GatewayClient],
) -> None:
    fake, client = peer
    commits = DeliverCommits(client)
    try:
        await commits.ready()
        valid, conflicted = commits.watch("tx-1"), commits.watch("tx-2")
        number = await fake.append(
            ("other", transaction_pb2.VALID),
            ("tx-2", transaction_pb2.MVCC_READ_CONFLICT),
            ("tx-1", transaction_pb2.VALID),
        )
        assert await valid.result() == CommitStatus("VALID", number)
        assert await conflicted.result() == CommitStatus("MVCC_READ_CONFLICT", number)
        assert fake.starts == ["newest"]
    finally:
        await commits.close()


async def test_a_broken_stream_resumes_after_the_last_block_seen(
    peer: tuple[FilteredPeer, GatewayClient],
) -> None:
    fake, client = peer
    commits = DeliverCommits(client, reconnect_delay_s=0.05)
    try:
        await commits.ready()
        first = commits.watch("tx-a")
        seen = await fake.append(("tx-a", transaction_pb2.VALID))
        assert (await first.result()).block_number == seen
        second = commits.watch("tx-b")
        await fake.break_streams()
        # Committed while no stream is open: the next stream starts at this block.
        number = await fake.append(("tx-b", transaction_pb2.VALID))
        assert await second.result() == CommitStatus("VALID", number)
        assert fake.starts == ["newest", seen + 1]
    finally:
        await commits.close()


async def test_a_transaction_never_committed_is_unavailable_after_the_timeout(
    peer: tuple[FilteredPeer, GatewayClient],
) -> None:
    _, client = peer
    slow = _client(
        int(client.endpoint.address.rsplit(":", 1)[1]),
        client.endpoint.tls_ca_pem,
        Timeouts(commit_status_s=0.2),
    )
    commits = DeliverCommits(slow)
    try:
        await commits.ready()
        with pytest.raises(LedgerUnavailable, match="did not commit tx-lost"):
            await commits.watch("tx-lost").result()
    finally:
        await commits.close()
        await slow.close()


async def test_an_unreachable_peer_is_not_ready() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    certificate, _ = _tls_material()
    client = _client(port, certificate, Timeouts(evaluate_s=2))
    commits = DeliverCommits(client, reconnect_delay_s=0.05)
    try:
        with pytest.raises(LedgerUnavailable):
            await commits.ready()
    finally:
        await commits.close()
        await client.close()
