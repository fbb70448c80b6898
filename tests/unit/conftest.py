"""Fixtures of the chaincode server tests: a server per module, a fake peer per test."""

from collections.abc import AsyncIterator

import grpc
import pytest

from tests.unit.fake_peer import FakePeer, Server, chaincode_server, connected_peer


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[Server]:
    async with chaincode_server() as running:
        yield running


@pytest.fixture
async def channel(server: Server) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield channel


@pytest.fixture
async def peer(channel: grpc.aio.Channel) -> AsyncIterator[FakePeer]:
    async with connected_peer(channel) as fake:
        yield fake
