"""The chaincode server's health is asked over gRPC: a port that is merely open fails it."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from infra.fabric.processes import grpc_serving
from ledger_gateway.fabric.chaincode.server import SERVICE
from tests.unit.fake_peer import Server


async def test_a_running_chaincode_server_answers_serving(server: Server) -> None:
    await grpc_serving("127.0.0.1", server.port, SERVICE)()


async def test_a_service_the_server_does_not_have_is_not_healthy(server: Server) -> None:
    with pytest.raises(GRPCError) as refused:
        await grpc_serving("127.0.0.1", server.port, "no-such.Service")()
    assert refused.value.status is Status.NOT_FOUND


@pytest.fixture
async def open_port_only() -> AsyncIterator[int]:
    """A listener that accepts connections and never speaks: what a stuck server looks like
    to a TCP check, which it passes."""

    async def accept_and_stall(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3600)  # holds the connection open without a word
        writer.close()

    listener = await asyncio.start_server(accept_and_stall, "127.0.0.1", 0)
    yield listener.sockets[0].getsockname()[1]
    listener.close()


async def test_a_port_that_accepts_but_speaks_no_grpc_is_not_healthy(open_port_only: int) -> None:
    # The stack's health check gives every probe a deadline; this one never gets an answer.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(grpc_serving("127.0.0.1", open_port_only, SERVICE)(), 2)
