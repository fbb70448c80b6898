"""verify_chain over Fabric-shaped blocks: links, data hashes and numbering."""

from fabric_protos.common import common_pb2

from ledger_gateway.fabric.chain import data_hash, header_hash, verify_chain


def _chain(length: int) -> list[common_pb2.Block]:
    blocks: list[common_pb2.Block] = []
    previous = b""
    for number in range(length):
        block = common_pb2.Block()
        block.data.data.extend([f"tx-{number}-{i}".encode() for i in range(3)])
        block.header.number = number
        block.header.previous_hash = previous
        block.header.data_hash = data_hash(block.data)
        previous = header_hash(block.header)
        blocks.append(block)
    return blocks


def test_an_intact_chain_verifies() -> None:
    report = verify_chain(_chain(300))
    assert report.ok
    assert report.blocks_checked == 300


def test_an_altered_transaction_names_its_block() -> None:
    blocks = _chain(5)
    blocks[3].data.data[1] = b"tx-3-1 altered"
    report = verify_chain(blocks)
    assert not report.ok
    assert report.first_bad_block == 3


def test_a_rewritten_block_breaks_the_next_link() -> None:
    blocks = _chain(5)
    blocks[2].data.data[0] = b"forged"
    blocks[2].header.data_hash = data_hash(blocks[2].data)  # the forger fixes the data hash
    report = verify_chain(blocks)
    assert not report.ok
    assert report.first_bad_block == 3


def test_a_missing_block_is_named() -> None:
    blocks = _chain(5)
    del blocks[1]
    assert verify_chain(blocks).first_bad_block == 1


def test_header_hash_depends_on_every_field() -> None:
    header = common_pb2.BlockHeader(number=128, previous_hash=b"p" * 32, data_hash=b"d" * 32)
    base = header_hash(header)
    for change in (
        {"number": 129},
        {"previous_hash": b"q" * 32},
        {"data_hash": b"e" * 32},
    ):
        altered = common_pb2.BlockHeader()
        altered.CopyFrom(header)
        for field, value in change.items():
            setattr(altered, field, value)
        assert header_hash(altered) != base
