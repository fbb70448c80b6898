"""The contract's state store over a peer link, without a stream: it reads its own writes
and knows the proposal's creator and time."""

from datetime import UTC, datetime

import pytest
from fabric_protos.ledger.queryresult import kv_query_result_pb2
from fabric_protos.peer import chaincode_shim_pb2

from ledger_gateway.fabric.chaincode.replay import Invocation
from ledger_gateway.fabric.chaincode.stub_store import StubStore
from tests.unit.fake_peer import CHANNEL, SOURCE, Msg, signed_proposal


class DictLink:
    """A PeerLink over a dict: GET_STATE and range answers from committed state only."""

    def __init__(self, state: dict[str, bytes]) -> None:
        self.state = state

    def call(self, kind: int, payload: bytes) -> bytes:
        if kind == Msg.GET_STATE:
            return self.state.get(chaincode_shim_pb2.GetState.FromString(payload).key, b"")
        if kind == Msg.PUT_STATE:
            return b""
        assert kind == Msg.GET_STATE_BY_RANGE
        query = chaincode_shim_pb2.GetStateByRange.FromString(payload)
        rows = [
            chaincode_shim_pb2.QueryResultBytes(
                resultBytes=kv_query_result_pb2.KV(key=k, value=v).SerializeToString()
            )
            for k, v in sorted(self.state.items())
            if query.startKey <= k < query.endKey
        ]
        return chaincode_shim_pb2.QueryResponse(results=rows).SerializeToString()


def _store(state: dict[str, bytes]) -> StubStore:
    at = datetime(2026, 11, 26, 12, 0, 0, 123456, tzinfo=UTC)
    invocation = Invocation(CHANNEL, "tx-1", (), signed_proposal(SOURCE, "tx-1", at))
    return StubStore(invocation, DictLink(state))


def test_the_store_reads_its_own_writes() -> None:
    store = _store({"a": b"1", "c": b"3"})
    store.put_state("b", b"2")
    store.put_state("c", b"33")
    assert store.get_state("c") == b"33"
    assert list(store.get_state_by_range("a", "z")) == [("a", b"1"), ("b", b"2"), ("c", b"33")]
    assert list(store.get_state_by_range("b", "c")) == [("b", b"2")]
    assert store.wrote


def test_the_store_knows_the_creator_and_the_time() -> None:
    store = _store({})
    assert store.creator.msp_id == SOURCE
    assert store.get_tx_timestamp() == datetime(2026, 11, 26, 12, 0, 0, 123456, tzinfo=UTC)
    assert store.get_tx_id() == "tx-1"
    assert not store.wrote
    with pytest.raises(ValueError, match="empty value"):
        store.put_state("k", b"")
