"""The contract's ``StateStore`` over the peer: one transaction's view of the world state.

Reads of keys this transaction wrote return the written value, as on the embedded
ledger (the peer itself would answer with the committed value). History comes back
oldest first, as on the embedded ledger (the peer sends it newest first).
"""

import contextlib
import functools
import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from fabric_protos.common import common_pb2
from fabric_protos.ledger.queryresult import kv_query_result_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import chaincode_shim_pb2, proposal_pb2

from ledger_gateway.chaincode import HistoryEntry
from ledger_gateway.fabric.chaincode.replay import Invocation, PeerError, PeerLink

ChaincodeMessage = chaincode_shim_pb2.ChaincodeMessage
_EMPTY_KEY_SUBSTITUTE = "\x01"  # the peer reads an empty start key as "from the first key"


@dataclass(frozen=True, slots=True)
class Creator:
    """Who signed the proposal: their MSP id and certificate (PEM)."""

    msp_id: str
    id_bytes: bytes


@dataclass(frozen=True, slots=True)
class ProposalFacts:
    creator: Creator
    timestamp: datetime


def proposal_facts(signed: proposal_pb2.SignedProposal) -> ProposalFacts:
    """The creator and the client's timestamp from a signed proposal's headers."""
    return _facts_of(signed.proposal_bytes)


# The shim runs a transaction once per answer of the peer: parse its proposal once.
@functools.lru_cache(maxsize=256)
def _facts_of(proposal_bytes: bytes) -> ProposalFacts:
    proposal = proposal_pb2.Proposal.FromString(proposal_bytes)
    header = common_pb2.Header.FromString(proposal.header)
    channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
    signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
    identity = identities_pb2.SerializedIdentity.FromString(signature_header.creator)
    return ProposalFacts(
        creator=Creator(msp_id=identity.mspid, id_bytes=identity.id_bytes),
        timestamp=channel_header.timestamp.ToDatetime(tzinfo=UTC),
    )


class StubStore:
    """Implements ``StateStore`` for one transaction by asking the peer."""

    def __init__(self, invocation: Invocation, link: PeerLink) -> None:
        if invocation.signed_proposal is None:
            raise ValueError("a transaction without a signed proposal")
        self._facts = proposal_facts(invocation.signed_proposal)
        self._tx_id = invocation.tx_id
        self._link = link
        self._writes: dict[str, bytes] = {}

    @property
    def creator(self) -> Creator:
        return self._facts.creator

    @property
    def wrote(self) -> bool:
        return bool(self._writes)

    def get_tx_id(self) -> str:
        return self._tx_id

    def get_tx_timestamp(self) -> datetime:
        return self._facts.timestamp

    def get_state(self, key: str) -> bytes | None:
        if key in self._writes:
            return self._writes[key]
        request = chaincode_shim_pb2.GetState(key=key)
        value = self._link.call(ChaincodeMessage.GET_STATE, request.SerializeToString())
        return value or None  # the peer answers an absent key with an empty value

    def put_state(self, key: str, value: bytes) -> None:
        if not value:
            raise ValueError("the peer stores an empty value as a delete")
        request = chaincode_shim_pb2.PutState(key=key, value=value)
        self._link.call(ChaincodeMessage.PUT_STATE, request.SerializeToString())
        self._writes[key] = value

    def get_state_by_range(self, start_key: str, end_key: str) -> Iterator[tuple[str, bytes]]:
        request = chaincode_shim_pb2.GetStateByRange(
            startKey=start_key or _EMPTY_KEY_SUBSTITUTE, endKey=end_key
        )
        committed = (
            (kv.key, kv.value)
            for kv in map(
                kv_query_result_pb2.KV.FromString,
                self._query(ChaincodeMessage.GET_STATE_BY_RANGE, request.SerializeToString()),
            )
        )
        written = sorted(
            (key, value)
            for key, value in self._writes.items()
            if start_key <= key and (not end_key or key < end_key)
        )
        return _overlay(committed, written) if written else committed

    def get_history_for_key(self, key: str) -> Iterator[HistoryEntry]:
        request = chaincode_shim_pb2.GetHistoryForKey(key=key)
        newest_first = [
            HistoryEntry(
                tx_id=mod.tx_id,
                timestamp=mod.timestamp.ToDatetime(tzinfo=UTC),
                value=None if mod.is_delete else mod.value,
            )
            for mod in map(
                kv_query_result_pb2.KeyModification.FromString,
                self._query(ChaincodeMessage.GET_HISTORY_FOR_KEY, request.SerializeToString()),
            )
        ]
        return reversed(newest_first)

    def _query(self, kind: ChaincodeMessage.Type.ValueType, payload: bytes) -> Iterator[bytes]:
        """A query's results, page after page (QUERY_STATE_NEXT while the peer has more)."""
        page = chaincode_shim_pb2.QueryResponse.FromString(self._link.call(kind, payload))
        try:
            while True:
                for result in page.results:
                    yield result.resultBytes
                if not page.has_more:
                    return
                more = chaincode_shim_pb2.QueryStateNext(id=page.id).SerializeToString()
                page = chaincode_shim_pb2.QueryResponse.FromString(
                    self._link.call(ChaincodeMessage.QUERY_STATE_NEXT, more)
                )
        finally:
            if page.has_more:  # abandoned before the end: let the peer free the iterator
                close = chaincode_shim_pb2.QueryStateClose(id=page.id).SerializeToString()
                # If the transaction is over, the peer has freed it already.
                with contextlib.suppress(PeerError):
                    self._link.call(ChaincodeMessage.QUERY_STATE_CLOSE, close)


def _overlay(
    committed: Iterator[tuple[str, bytes]], written: list[tuple[str, bytes]]
) -> Iterator[tuple[str, bytes]]:
    """Both sorted streams merged by key; this transaction's writes win."""
    previous: tuple[str, int, bytes] | None = None
    # Rank 0 for writes sorts them first among equal keys; the later duplicate is dropped.
    tagged_written = ((key, 0, value) for key, value in written)
    tagged_committed = ((key, 1, value) for key, value in committed)
    for item in heapq.merge(tagged_written, tagged_committed):
        if previous is not None and previous[0] == item[0]:
            continue
        previous = item
        yield item[0], item[2]
