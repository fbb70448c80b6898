"""The chaincode server's life: several peers at once, and a process killed and started
again on its port, to which the peer reconnects."""

import asyncio
import json
import os
import sys

import grpc

from schemas import Transfer
from tests.unit.fake_peer import (
    CHAINCODE_ID,
    NETWORK,
    REQUESTING,
    SOURCE,
    TIMEOUT_S,
    FakePeer,
    Server,
    create_tx,
    doctor,
    new_transfer_id,
)


async def test_two_peers_use_the_server_at_once(server: Server) -> None:
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as one,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as two,
    ):
        peers = [FakePeer(one), FakePeer(two)]
        for fake in peers:
            await fake.connect()
        transfer_id = new_transfer_id()
        replies = await asyncio.gather(
            *(fake.submit(doctor(REQUESTING), create_tx(transfer_id)) for fake in peers)
        )
        assert [r.result.transfer.transfer_id for r in replies if r.result.transfer] == [
            transfer_id
        ] * 2
        for fake in peers:
            await fake.disconnect()


async def _start_process(port: int = 0) -> tuple[asyncio.subprocess.Process, int]:
    env = {
        **os.environ,
        "CUREX_CHAINCODE_ID": CHAINCODE_ID,
        "CUREX_CHAINCODE_ADDRESS": f"127.0.0.1:{port}",
        "CUREX_NETWORK": NETWORK.to_env(),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ledger_gateway.fabric.chaincode",
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    stderr = process.stderr
    assert stderr is not None
    async with asyncio.timeout(TIMEOUT_S):
        while line := await stderr.readline():
            record = json.loads(line)
            if record["event"] == "chaincode server started":
                assert record["service"] == "chaincode"
                break
        else:
            raise AssertionError("the chaincode server did not start")

    async def drain() -> None:  # a full pipe would block the server's logging
        while await stderr.read(65536):
            pass

    task = asyncio.create_task(drain())
    _drains.add(task)
    task.add_done_callback(_drains.discard)
    return process, int(record["port"])


_drains: set[asyncio.Task[None]] = set()


async def test_the_server_process_restarts_and_the_peer_reconnects() -> None:
    process, port = await _start_process()
    state: dict[str, bytes] = {}
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            peer = FakePeer(channel)
            peer.state = state
            await peer.connect()
            transfer_id = new_transfer_id()
            assert (await peer.submit(doctor(REQUESTING), create_tx(transfer_id))).status == 200

            process.kill()  # kill -9: no goodbye on the stream
            await process.wait()
            await peer.disconnect()  # the peer sees its stream break
            process, _ = await _start_process(port)

            again = FakePeer(channel)
            again.state = state
            await again.connect()
            reply = await again.invoke("transfer", transfer_id, msp=SOURCE)
            assert Transfer.model_validate_json(reply.response.payload).transfer_id == transfer_id
            await again.disconnect()
        process.terminate()
        assert await asyncio.wait_for(process.wait(), TIMEOUT_S) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
