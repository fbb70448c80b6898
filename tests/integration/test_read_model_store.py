"""The read model on the real PostgreSQL: projection (versioned, idempotent, atomic with its
positions), the paged list and its filters, scoping, and the schema's migrations."""

import asyncio
from datetime import timedelta

import psycopg
import pytest
from aiokafka import TopicPartition
from psycopg_pool import AsyncConnectionPool

from infra.settings import InfraSettings
from read_model.cursor import Cursor
from read_model.migrations import upgrade_schema
from read_model.projector import ReadModelProjector
from read_model.queries import ApplicationsDatabase, ListFilter, Viewer
from schemas import Action, PurposeOfUse, Role, TransferState
from tests.integration.read_model_db import pool_on, scratch_database
from tests.read_model_reports import (
    T0,
    committed,
    lifecycle,
    new_transfer_id,
    pseudonym,
    rejected,
)

pytestmark = pytest.mark.integration
S = TransferState
BLOCKS = TopicPartition("curex.ledger.blocks", 0)
DOCTOR_KI = Viewer(Role.HEALTH_PROFESSIONAL, "SE-KI", None)
DOCTOR_SERMAS = Viewer(Role.HEALTH_PROFESSIONAL, "ES-SERMAS", None)


async def test_a_transfer_reads_back_with_its_history_in_ledger_order(
    pool: AsyncConnectionPool,
) -> None:
    tid = new_transfer_id()
    reports = lifecycle(tid, first_block=10)
    await ReadModelProjector(pool).project(reports, {BLOCKS: 3})
    view = await ApplicationsDatabase(pool).transfer(tid)
    assert view is not None
    assert view.state is S.CANCELLED
    assert view.previous_state is S.RISK_ACCEPTED
    assert [h.to_state for h in view.history] == [S.INITIALISED, S.RISK_ACCEPTED, S.CANCELLED]
    assert [h.tx_id for h in view.history] == [r.tx_id for r in reports]
    assert view.last_block == 12


async def test_out_of_order_and_replayed_blocks_leave_the_newest_state(
    pool: AsyncConnectionPool,
) -> None:
    tid = new_transfer_id()
    created, audited, cancelled = lifecycle(tid, first_block=20)
    projector = ReadModelProjector(pool)
    await projector.project([created, cancelled], {})
    await projector.project([audited], {})  # an older block, late
    await projector.project([created, audited, cancelled, audited], {})  # all again
    view = await ApplicationsDatabase(pool).transfer(tid)
    assert view is not None
    assert view.state is S.CANCELLED
    assert view.last_tx_id == cancelled.tx_id
    assert len(view.history) == 3


async def test_a_rejection_shows_on_a_known_transfer_and_survives_later_commits(
    pool: AsyncConnectionPool,
) -> None:
    known, unknown = new_transfer_id(), new_transfer_id()
    created, audited, _ = lifecycle(known, first_block=30)
    projector = ReadModelProjector(pool)
    await projector.project([created, rejected(known, S.INITIALISED), audited], {})
    await projector.project([rejected(unknown, S.CLOSED)], {})
    database = ApplicationsDatabase(pool)
    view = await database.transfer(known)
    assert view is not None
    assert view.state is S.RISK_ACCEPTED
    assert view.last_rejection is not None
    assert view.last_rejection.code == "ILLEGAL_TRANSITION"
    assert await database.transfer(unknown) is None


async def test_positions_are_written_with_the_batch_and_never_move_back(
    pool: AsyncConnectionPool,
) -> None:
    projector = ReadModelProjector(pool)
    other = TopicPartition("curex.ledger.blocks", 1)
    await projector.project([committed(new_transfer_id(), block=1)], {BLOCKS: 41, other: 7})
    await projector.project([], {BLOCKS: 40})
    assert await projector.positions([BLOCKS, other]) == {BLOCKS: 41, other: 7}


async def test_a_failed_batch_writes_neither_its_rows_nor_its_positions(
    pool: AsyncConnectionPool,
) -> None:
    projector = ReadModelProjector(pool)
    good = committed(new_transfer_id(), block=50)
    async with pool.connection() as db:
        await db.execute(
            "ALTER TABLE transfer_history ADD CONSTRAINT no_50 CHECK (block_number <> 50)"
        )
    with pytest.raises(psycopg.errors.CheckViolation):
        await projector.project([good], {BLOCKS: 99})
    assert await ApplicationsDatabase(pool).transfer(good.correlation_id) is None
    assert await projector.positions([BLOCKS]) == {}


async def _seed(
    pool: AsyncConnectionPool, count: int, start_block: int, **parties: str
) -> list[str]:
    ids = [new_transfer_id() for _ in range(count)]
    reports = [
        committed(tid, block=start_block + n, at=T0 + timedelta(minutes=start_block + n), **parties)
        for n, tid in enumerate(ids)
    ]
    await ReadModelProjector(pool).project(reports, {})
    return ids


async def test_pages_hold_every_transfer_once_while_new_ones_arrive(
    pool: AsyncConnectionPool,
) -> None:
    database = ApplicationsDatabase(pool)
    existing = set(await _seed(pool, 45, start_block=0))
    seen: list[str] = []
    cursor: Cursor | None = None
    arrivals = 0
    while True:
        page = await database.page(DOCTOR_KI, 7, cursor)
        seen += [item.transfer_id for item in page.items]
        # Newer transfers arrive between pages: none may push an older one out.
        arrivals += len(await _seed(pool, 3, start_block=1000 + arrivals))
        if page.next_cursor is None:
            break
        cursor = Cursor.decode(page.next_cursor)
    assert len(seen) == len(set(seen))  # no transfer twice
    assert set(seen) == existing  # none skipped; the newer arrivals sort before the first page


async def test_items_come_newest_first_and_a_page_is_never_longer_than_asked(
    pool: AsyncConnectionPool,
) -> None:
    await _seed(pool, 12, start_block=0)
    page = await ApplicationsDatabase(pool).page(DOCTOR_KI, 5)
    times = [item.updated_at for item in page.items]
    assert len(page.items) == 5
    assert times == sorted(times, reverse=True)
    assert page.next_cursor is not None


async def test_every_filter_narrows_the_list(pool: AsyncConnectionPool) -> None:
    database = ApplicationsDatabase(pool)
    asked = (await _seed(pool, 3, start_block=0))[0]
    emergency = new_transfer_id()
    await ReadModelProjector(pool).project(
        [
            committed(emergency, block=100, emergency=True, at=T0 + timedelta(hours=5)),
            committed(
                emergency,
                block=101,
                state=S.RISK_ACCEPTED,
                previous=S.INITIALISED,
                emergency=True,
                at=T0 + timedelta(hours=6),
            ),
        ],
        {},
    )

    async def ids(viewer: Viewer, only: ListFilter) -> set[str]:
        return {item.transfer_id for item in (await database.page(viewer, 100, None, only)).items}

    assert await ids(DOCTOR_KI, ListFilter(emergency=True)) == {emergency}
    assert emergency not in await ids(DOCTOR_KI, ListFilter(emergency=False))
    assert await ids(DOCTOR_KI, ListFilter(state=S.RISK_ACCEPTED)) == {emergency}
    assert asked in await ids(DOCTOR_KI, ListFilter(side="requester"))
    assert await ids(DOCTOR_KI, ListFilter(side="source")) == set()
    assert asked in await ids(DOCTOR_SERMAS, ListFilter(side="source"))
    assert await ids(DOCTOR_KI, ListFilter(updated_after=T0 + timedelta(hours=5, minutes=30))) == {
        emergency
    }


async def test_patients_see_their_own_and_professionals_their_organisations_only(
    pool: AsyncConnectionPool,
) -> None:
    database = ApplicationsDatabase(pool)
    mine = await _seed(pool, 2, start_block=0, patient=pseudonym("me"))
    theirs = await _seed(pool, 2, start_block=10, patient=pseudonym("them"))
    elsewhere = await _seed(pool, 2, start_block=20, requesting="FR-APHP", source="IT-GEMELLI")

    async def ids(viewer: Viewer) -> set[str]:
        return {item.transfer_id for item in (await database.page(viewer, 100)).items}

    assert await ids(Viewer(Role.PATIENT, "ES-SERMAS", pseudonym("me"))) == set(mine)
    assert await ids(DOCTOR_KI) == set(mine + theirs)
    assert await ids(DOCTOR_SERMAS) == set(mine + theirs)
    assert await ids(Viewer(Role.HEALTH_PROFESSIONAL, "FR-APHP", None)) == set(elsewhere)
    assert await ids(Viewer(Role.HEALTH_PROFESSIONAL, "DE-CHARITE", None)) == set()


async def test_a_new_database_is_migrated_from_empty_to_the_newest_schema(
    postgres: InfraSettings,
) -> None:
    async with scratch_database(postgres, revision=None) as url:
        await asyncio.to_thread(upgrade_schema, url)
        async with pool_on(url) as pool:
            await ApplicationsDatabase(pool).set_language("user-1", "sv")
            assert await ApplicationsDatabase(pool).language("user-1") == "sv"


async def test_the_first_schema_version_is_migrated_keeping_its_transfers_not_their_free_text(
    postgres: InfraSettings,
) -> None:
    """Rows as revision 0001 held them (a free-text reason on the transfer and in the history
    of its create) read back after the upgrade with the purpose code in place of the text."""
    free_text = "patient admitted with chest pain"
    async with scratch_database(postgres, revision="0001") as url:
        tid = new_transfer_id()
        async with pool_on(url) as pool, pool.connection() as db, db.transaction():
            await db.execute(
                "INSERT INTO transfers (transfer_id, state, emergency, review_required, "
                "requesting_org, source_org, patient_pseudonym, reason, created_at, updated_at, "
                "last_block, last_tx) VALUES (%s, 'CANCELLED', false, false, 'SE-KI', "
                "'ES-SERMAS', %s, %s, now(), now(), 2, %s)",
                (tid, b"\x01" * 32, free_text, b"\x02" * 32),
            )
            await db.execute(
                "INSERT INTO transfer_history (transfer_key, tx, block_number, at, to_state, "
                "action, actor_role, actor_org, actor_user_id, reason) "
                "SELECT transfer_key, %s, 1, now(), 'INITIALISED', 'create', "
                "'health_professional', 'SE-KI', 'doctor.ki', %s FROM transfers "
                "WHERE transfer_id = %s",
                (b"\x03" * 32, free_text, tid),
            )
        await asyncio.to_thread(upgrade_schema, url)
        async with pool_on(url) as pool:
            view = await ApplicationsDatabase(pool).transfer(tid)
            assert view is not None
            assert view.state is S.CANCELLED
            assert view.purpose is PurposeOfUse.TREAT
            assert [entry.reason for entry in view.history] == ["TREAT"]
            assert free_text not in view.model_dump_json()
            assert await ApplicationsDatabase(pool).language("nobody") == "en"


async def test_the_database_knows_every_state_action_and_role_the_code_does(
    pool: AsyncConnectionPool,
) -> None:
    async with pool.connection() as db:
        for enum_type, members in (
            ("transfer_state", TransferState),
            ("transfer_action", Action),
            ("actor_role", Role),
        ):
            row = await (
                await db.execute(f"SELECT enum_range(NULL::{enum_type})::text[]")
            ).fetchone()
            assert row is not None
            assert set(row[0]) == {member.value for member in members}, enum_type


async def test_a_report_the_database_cannot_hold_is_skipped_and_the_rest_is_projected(
    pool: AsyncConnectionPool,
) -> None:
    before, poison, after = new_transfer_id(), new_transfer_id(), new_transfer_id()
    projector = ReadModelProjector(pool)
    await projector.project(
        [
            committed(before, block=60),
            committed(poison, block=61, reason="a NUL \x00 PostgreSQL cannot store"),
            committed(after, block=62),
        ],
        {BLOCKS: 63},
    )
    database = ApplicationsDatabase(pool)
    assert await database.transfer(before) is not None
    assert await database.transfer(poison) is None
    assert await database.transfer(after) is not None
    assert await projector.positions([BLOCKS]) == {BLOCKS: 63}
