"""The protocol on one chaincode stream: registration, many transactions at once, INIT,
a tx id already executing, unexpected messages, keepalives, and a stream that is lost."""

import grpc

from ledger_gateway.chaincode import composite_key
from schemas import LedgerCommand, Transfer
from tests.unit.fake_peer import (
    CHAINCODE_ID,
    REQUESTING,
    SOURCE,
    FakePeer,
    Msg,
    Server,
    create_tx,
    doctor,
    new_transfer_id,
    poll,
)


async def test_the_server_registers_with_its_package_id(peer: FakePeer) -> None:
    assert peer.registered_as == CHAINCODE_ID


async def test_32_concurrent_transactions_on_one_stream(peer: FakePeer) -> None:
    transfer_ids = [new_transfer_id() for _ in range(40)]
    creates = {
        peer.start(
            "submit",
            LedgerCommand(
                actor=doctor(REQUESTING), tx=create_tx(t), correlation_id="c"
            ).model_dump_json(),
            msp=REQUESTING,
        ): t
        for t in transfer_ids
    }
    reads = [peer.start("transfer", t, msp=SOURCE) for t in transfer_ids[:8]]

    replies = {tx_id: await peer.result(tx_id) for tx_id in [*creates, *reads]}

    for tx_id, transfer_id in creates.items():
        result = replies[tx_id].result
        assert result.tx_id == tx_id
        assert result.transfer is not None
        assert result.transfer.transfer_id == transfer_id
        assert replies[tx_id].has_event
    for tx_id in reads:
        assert replies[tx_id].status == 200  # each saw the transfer, or not yet: no mix-up
        payload = replies[tx_id].response.payload
        assert not payload or Transfer.model_validate_json(payload).transfer_id in transfer_ids
    for transfer_id in transfer_ids:
        assert composite_key("transfer", transfer_id) in peer.state


async def test_init_runs_the_chaincode_and_fails_as_an_error_message(peer: FakePeer) -> None:
    ok = await peer.result(peer.start("transfer", new_transfer_id(), msp=SOURCE, kind=Msg.INIT))
    assert ok.status == 200
    failed = await peer.result(peer.start("nonsense", msp=SOURCE, kind=Msg.INIT))
    assert failed.message.type == Msg.ERROR
    assert failed.message.payload.startswith(b"CUREX:")


async def test_a_tx_id_already_executing_is_refused(peer: FakePeer) -> None:
    peer.silent_on = {"GET_STATE"}
    tx_id = peer.start("transfer", new_transfer_id(), msp=SOURCE)
    await poll(lambda: len(peer.unanswered) == 1)

    peer.start("transfer", new_transfer_id(), msp=SOURCE, tx_id=tx_id)
    duplicate = await peer.result(tx_id)
    assert duplicate.message.type == Msg.ERROR
    assert b"already executing" in duplicate.message.payload

    peer.release()
    tx = peer._txs[tx_id]
    await poll(lambda: len(tx.late) == 1)
    assert tx.late[0].type == Msg.COMPLETED


async def test_an_unexpected_message_is_answered_with_an_error(peer: FakePeer) -> None:
    tx_id = peer.start("transfer", new_transfer_id(), msp=SOURCE, kind=Msg.GET_STATE)
    reply = await peer.result(tx_id)
    assert reply.message.type == Msg.ERROR
    # The stream still works.
    assert (await peer.invoke("transfer", new_transfer_id(), msp=SOURCE)).status == 200


async def test_keepalives_are_echoed(peer: FakePeer) -> None:
    for _ in range(3):
        peer.send(Msg(type=Msg.KEEPALIVE))
    await poll(lambda: peer.keepalives == 3)


async def test_a_lost_stream_fails_its_transactions_and_the_peer_reconnects(
    channel: grpc.aio.Channel, server: Server
) -> None:
    stuck = FakePeer(channel)
    await stuck.connect()
    stuck.silent_on = {"GET_STATE"}
    tx_id = stuck.start("transfer", new_transfer_id(), msp=SOURCE)
    await poll(lambda: len(stuck.unanswered) == 1)

    await stuck.disconnect()  # the peer goes away while the chaincode waits for an answer

    await poll(lambda: any(t == tx_id for t, _ in server.calls))
    outcome = next(o for t, o in server.calls if t == tx_id)
    assert outcome.response.status == 500
    assert "CONTRACT_FAILURE" in outcome.response.message

    again = FakePeer(channel)
    again.state = stuck.state
    await again.connect()
    assert again.registered_as == CHAINCODE_ID
    reply = await again.submit(doctor(REQUESTING), create_tx(new_transfer_id()))
    assert reply.status == 200
    await again.disconnect()
