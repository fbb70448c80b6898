"""Parsing Fabric blocks built with the protos: header, validation codes, chaincode calls."""

from fabric_protos.peer import transaction_pb2

from ledger_gateway.fabric.blocks import parse_block
from ledger_gateway.fabric.chain import header_hash
from ledger_gateway.fabric.transactions import parse_envelope
from tests.unit.fabric_material import T0, block, config_envelope, endorser_envelope, make_identity


def test_an_endorser_transaction_reads_back() -> None:
    identity = make_identity("SE-KI")
    tx = parse_envelope(
        endorser_envelope(
            identity,
            "tx-1",
            args=(b"submit", b'{"a":1}'),
            payload=b'{"tx_id":"tx-1"}',
            event=("curex.transaction", b"event payload"),
        )
    )
    assert tx.tx_id == "tx-1"
    assert tx.channel == "curex"
    assert tx.timestamp == T0
    assert tx.creator_msp_id == "SE-KI"
    assert tx.chaincode == "curex-transfer"
    assert tx.function == "submit"
    assert tx.args == (b"submit", b'{"a":1}')
    assert (tx.response_status, tx.response_payload) == (200, b'{"tx_id":"tx-1"}')
    assert tx.event is not None
    assert (tx.event.chaincode, tx.event.name, tx.event.payload) == (
        "curex-transfer",
        "curex.transaction",
        b"event payload",
    )


def test_a_transaction_without_an_event_has_none() -> None:
    tx = parse_envelope(endorser_envelope(make_identity(), "tx-2"))
    assert tx.event is None


def test_a_block_carries_its_header_and_each_transactions_validation_code() -> None:
    identity = make_identity()
    raw = block(
        7,
        b"p" * 32,
        [
            endorser_envelope(identity, "tx-a"),
            endorser_envelope(identity, "tx-b"),
            config_envelope(identity),
            b"\xff\xfe not an envelope",
        ],
        [
            transaction_pb2.VALID,
            transaction_pb2.MVCC_READ_CONFLICT,
            transaction_pb2.VALID,
            transaction_pb2.BAD_PAYLOAD,
        ],
    )
    parsed = parse_block(raw)
    assert parsed.number == 7
    assert parsed.previous_hash == b"p" * 32
    assert parsed.data_hash == raw.header.data_hash
    assert parsed.hash == header_hash(raw.header)
    assert [t.position for t in parsed.transactions] == [0, 1, 2, 3]
    assert [t.validation_code for t in parsed.transactions] == [
        "VALID",
        "MVCC_READ_CONFLICT",
        "VALID",
        "BAD_PAYLOAD",
    ]
    assert [t.valid for t in parsed.transactions] == [True, False, True, False]
    config = parsed.transactions[2].tx
    assert config is not None
    assert config.chaincode is None
    assert parsed.transactions[3].tx is None

    view = parsed.view()
    assert view.number == 7
    assert view.previous_hash == (b"p" * 32).hex()
    assert view.merkle_root == raw.header.data_hash.hex()
    assert view.hash == header_hash(raw.header).hex()
    assert view.timestamp == T0.isoformat()
    assert view.tx_ids == ("tx-a", "tx-b", "", "")


def test_missing_transaction_filter_reads_as_not_validated() -> None:
    identity = make_identity()
    raw = block(1, b"", [endorser_envelope(identity, "tx")], [])
    del raw.metadata.metadata[:]
    assert parse_block(raw).transactions[0].validation_code == "NOT_VALIDATED"
