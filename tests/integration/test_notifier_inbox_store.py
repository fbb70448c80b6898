"""The inbox writer on the real PostgreSQL: a batch's rows take seqs in ledger order and
the write says which seq came before them (what lets the feed push them without reading
them back); a repeated batch adds nothing; a row the database cannot hold is skipped
and the rest of its batch is written."""

from collections import Counter

import pytest
from aiokafka import TopicPartition
from psycopg_pool import AsyncConnectionPool

from notifier.inbox import InboxStore, inbox_rows
from schemas import TransactionCommitted
from tests.read_model_reports import lifecycle, new_transfer_id

pytestmark = pytest.mark.integration
BLOCKS = TopicPartition("curex.ledger.blocks", 0)


def unstorable(report: TransactionCommitted) -> TransactionCommitted:
    """The report with a patient pseudonym PostgreSQL's text cannot hold (a NUL byte)."""
    transfer = report.result.transfer
    assert transfer is not None
    broken = transfer.model_copy(update={"patient_pseudonym": "ab\x00cd"})
    return report.model_copy(
        update={"result": report.result.model_copy(update={"transfer": broken})}
    )


async def test_a_batch_takes_seqs_in_ledger_order_after_what_was_there(
    pool: AsyncConnectionPool,
) -> None:
    store = InboxStore(pool)
    first = lifecycle(new_transfer_id(), first_block=1)
    second = lifecycle(new_transfer_id(), first_block=10)

    one = await store.write(list(reversed(first)), {BLOCKS: 3})
    two = await store.write(second, {BLOCKS: 6})

    assert one.after == 0
    assert [e.seq for e in one.entries] == sorted(e.seq for e in one.entries)
    assert [e.block_number for e in one.entries] == sorted(e.block_number for e in one.entries)
    assert two.after == one.entries[-1].seq
    assert min(e.seq for e in two.entries) > two.after
    assert await store.since(0, 100) == one.entries + two.entries
    assert await store.positions([BLOCKS]) == {BLOCKS: 6}


async def test_a_repeated_batch_adds_nothing(pool: AsyncConnectionPool) -> None:
    store = InboxStore(pool)
    reports = lifecycle(new_transfer_id(), first_block=1)
    first = await store.write(reports, {BLOCKS: 3})

    again = await store.write(reports, {BLOCKS: 3})

    assert again.entries == []
    assert again.after == first.entries[-1].seq


async def test_a_row_the_database_cannot_hold_is_skipped_and_the_rest_written(
    pool: AsyncConnectionPool,
) -> None:
    store = InboxStore(pool)
    good = lifecycle(new_transfer_id(), first_block=1)
    bad = unstorable(lifecycle(new_transfer_id(), first_block=5)[0])

    written = await store.write([*good, bad], {BLOCKS: 4})

    per_change = len(inbox_rows(good[:1]))
    by_transfer = Counter(e.transfer_id for e in written.entries)
    assert by_transfer[good[0].correlation_id] == 3 * per_change
    # Only the patient's row of the broken change is lost; its professionals are told.
    assert by_transfer[bad.correlation_id] == per_change - 1
    assert await store.since(0, 100) == written.entries
    assert await store.positions([BLOCKS]) == {BLOCKS: 4}
