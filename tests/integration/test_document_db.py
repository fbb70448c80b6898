"""The local document DB (FerretDB) that `curex up` runs: the operations the read model uses.

FerretDB 1.24 lacks transactions, change streams, TTL and partial indexes, `$lookup`,
most `$group` accumulators, the positional `$` operator, `arrayFilters` and the
projection of `find_one_and_update`, and silently ignores `$push` modifiers
(`$slice`, `$sort`, `$position`): the data layer uses none of them.
"""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from typer.testing import CliRunner

from curex.cli import app
from infra.settings import InfraSettings
from infra.testing import ensure_stack

pytestmark = pytest.mark.integration

Document = dict[str, Any]


@pytest.fixture(scope="module")
def docdb() -> InfraSettings:
    return ensure_stack(["docdb"])


@pytest.fixture(scope="module")
async def database(docdb: InfraSettings) -> AsyncIterator[AsyncDatabase[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(docdb.docdb_url, tz_aware=True)
    # A database of its own per run, so parallel sessions never see each other's data.
    db = client[f"test_docdb_{uuid.uuid4().hex[:12]}"]
    yield db
    await client.drop_database(db.name)
    await client.close()


@pytest.fixture
def transfers(database: AsyncDatabase[Document]) -> AsyncCollection[Document]:
    return database[f"transfers_{uuid.uuid4().hex[:12]}"]


def _transfer(transfer_id: str, **fields: Any) -> Document:
    return {
        "_id": transfer_id,
        "state": "INITIALISED",
        "parties": {"requesting": "SE-KI", "source": "ES-SERMAS"},
        "history": [],
        **fields,
    }


async def test_an_inserted_document_is_found(transfers: AsyncCollection[Document]) -> None:
    await transfers.insert_one(_transfer("t-1"))

    found = await transfers.find_one({"_id": "t-1"})

    assert found == _transfer("t-1")


async def test_set_changes_only_the_named_fields(transfers: AsyncCollection[Document]) -> None:
    await transfers.insert_one(_transfer("t-1"))

    result = await transfers.update_one(
        {"_id": "t-1"}, {"$set": {"state": "RISK_ACCEPTED", "updated_block": 7}}
    )

    assert (result.matched_count, result.modified_count) == (1, 1)
    assert await transfers.find_one({"_id": "t-1"}) == _transfer(
        "t-1", state="RISK_ACCEPTED", updated_block=7
    )


async def test_upsert_inserts_once_then_updates(transfers: AsyncCollection[Document]) -> None:
    def upsert(language: str) -> Document:
        return {"$set": {"language": language}, "$setOnInsert": {"created": "first"}}

    inserted = await transfers.update_one({"_id": "user-1"}, upsert("en"), upsert=True)
    updated = await transfers.update_one({"_id": "user-1"}, upsert("sv"), upsert=True)

    assert inserted.upserted_id == "user-1"
    assert updated.upserted_id is None
    assert updated.modified_count == 1
    assert await transfers.find_one({"_id": "user-1"}) == {
        "_id": "user-1",
        "language": "sv",
        "created": "first",
    }


async def test_a_unique_index_rejects_a_duplicate(
    transfers: AsyncCollection[Document],
) -> None:
    await transfers.create_index([("org_id", ASCENDING)], unique=True)
    await transfers.insert_one({"_id": "o-1", "org_id": "ES-SERMAS"})

    with pytest.raises(DuplicateKeyError):
        await transfers.insert_one({"_id": "o-2", "org_id": "ES-SERMAS"})
    with pytest.raises(DuplicateKeyError):
        await transfers.update_one({"_id": "o-3"}, {"$set": {"org_id": "ES-SERMAS"}}, upsert=True)

    assert await transfers.count_documents({}) == 1


async def test_find_sorts_and_limits(transfers: AsyncCollection[Document]) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    await transfers.insert_many(
        [
            _transfer(
                f"t-{n}", updated_at=start + timedelta(minutes=n), org="ES" if n % 2 else "SE"
            )
            for n in range(6)
        ]
    )

    newest = await transfers.find({}).sort("updated_at", DESCENDING).limit(2).to_list()
    by_org = (
        await transfers.find({"org": "ES"}, {"_id": 1})
        .sort([("org", ASCENDING), ("updated_at", ASCENDING)])
        .skip(1)
        .to_list()
    )

    assert [doc["_id"] for doc in newest] == ["t-5", "t-4"]
    assert newest[0]["updated_at"] == start + timedelta(minutes=5)
    assert by_org == [{"_id": "t-3"}, {"_id": "t-5"}]


async def test_update_filters_on_a_nested_field(transfers: AsyncCollection[Document]) -> None:
    await transfers.insert_many(
        [
            _transfer("t-1"),
            _transfer("t-2", parties={"requesting": "ES-SERMAS", "source": "SE-KI"}),
        ]
    )

    result = await transfers.update_one(
        {"parties.source": "SE-KI"}, {"$set": {"parties.source_seen": True}}
    )

    assert result.modified_count == 1
    changed = await transfers.find_one({"_id": "t-2"})
    assert changed is not None
    assert changed["parties"] == {
        "requesting": "ES-SERMAS",
        "source": "SE-KI",
        "source_seen": True,
    }
    assert await transfers.find_one({"_id": "t-1"}) == _transfer("t-1")


async def test_push_appends_to_an_array(transfers: AsyncCollection[Document]) -> None:
    await transfers.insert_one(_transfer("t-1"))

    for tx_id in ("tx-1", "tx-2"):
        await transfers.update_one({"_id": "t-1"}, {"$push": {"history": {"tx_id": tx_id}}})

    found = await transfers.find_one({"_id": "t-1"})
    assert found is not None
    assert found["history"] == [{"tx_id": "tx-1"}, {"tx_id": "tx-2"}]
    assert await transfers.count_documents({"history.tx_id": "tx-2"}) == 1


async def test_add_to_set_keeps_one_copy(transfers: AsyncCollection[Document]) -> None:
    await transfers.insert_one(_transfer("t-1", seen_events=[]))

    for event_id in ("e-1", "e-2", "e-1"):
        await transfers.update_one({"_id": "t-1"}, {"$addToSet": {"seen_events": event_id}})

    found = await transfers.find_one({"_id": "t-1"})
    assert found is not None
    assert found["seen_events"] == ["e-1", "e-2"]


async def test_a_guarded_update_applies_an_event_once(
    transfers: AsyncCollection[Document],
) -> None:
    """The projector's idempotency: the event id is recorded in the same write as its effect."""
    await transfers.insert_one(_transfer("t-1", seen_events=[]))

    def apply(event_id: str, tx_id: str) -> Any:
        return transfers.update_one(
            {"_id": "t-1", "seen_events": {"$ne": event_id}},
            {
                "$push": {"history": {"tx_id": tx_id}},
                "$addToSet": {"seen_events": event_id},
                "$set": {"state": "RISK_ACCEPTED"},
            },
        )

    first = await apply("e-1", "tx-1")
    replay = await apply("e-1", "tx-1")

    assert (first.matched_count, replay.matched_count) == (1, 0)
    found = await transfers.find_one({"_id": "t-1"})
    assert found is not None
    assert found["history"] == [{"tx_id": "tx-1"}]
    assert found["seen_events"] == ["e-1"]


async def test_find_one_and_update_returns_the_document_after(
    transfers: AsyncCollection[Document],
) -> None:
    await transfers.insert_one(_transfer("t-1", version=1))

    after = await transfers.find_one_and_update(
        {"_id": "t-1"},
        {"$set": {"state": "CANCELLED"}, "$inc": {"version": 1}},
        return_document=ReturnDocument.AFTER,
    )
    created = await transfers.find_one_and_update(
        {"_id": "counter"},
        {"$inc": {"value": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )

    assert after == _transfer("t-1", state="CANCELLED", version=2)
    assert created == {"_id": "counter", "value": 1}


def test_status_names_docdb_as_healthy(docdb: InfraSettings) -> None:
    result = CliRunner().invoke(app, ["status"], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if " docdb " in line]
    assert len(rows) == 1, result.output
    assert "RUNNING" in rows[0]
    assert "healthy" in rows[0]
