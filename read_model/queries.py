"""Reads of the Applications Database: transfers as projected, and user preferences."""

from pymongo import AsyncMongoClient, ReturnDocument

from read_model.documents import (
    PREFERENCES_COLLECTION,
    TRANSFERS_COLLECTION,
    StoredDocument,
    TransferView,
    from_stored,
)
from schemas import DEFAULT_LANGUAGE, Language, Role


class ApplicationsDatabase:
    def __init__(self, client: AsyncMongoClient[StoredDocument], database: str) -> None:
        db = client[database]
        self._transfers = db[TRANSFERS_COLLECTION]
        self._preferences = db[PREFERENCES_COLLECTION]

    async def ensure_indexes(self) -> None:
        """The indexes the list queries need on MongoDB (FerretDB 1.x accepts, ignores them)."""
        for field in ("requesting_org", "source_org", "patient_pseudonym"):
            await self._transfers.create_index([(field, 1), ("updated_at", -1)])

    async def transfer(self, transfer_id: str) -> TransferView | None:
        document = await self._transfers.find_one({"_id": transfer_id})
        return None if document is None else from_stored(document)

    async def transfers_for(
        self, role: Role, org: str, patient_pseudonym: str | None, limit: int
    ) -> list[TransferView]:
        """Professionals see their organisation's transfers; patients their own."""
        if role is Role.PATIENT:
            query: StoredDocument = {"patient_pseudonym": patient_pseudonym}
        else:
            query = {"$or": [{"requesting_org": org}, {"source_org": org}]}
        cursor = self._transfers.find(query).sort("updated_at", -1).limit(limit)
        return [from_stored(document) async for document in cursor]

    async def language(self, user_id: str) -> Language:
        document = await self._preferences.find_one({"_id": user_id})
        language: Language = document["language"] if document else DEFAULT_LANGUAGE
        return language

    async def set_language(self, user_id: str, language: Language) -> Language:
        document = await self._preferences.find_one_and_update(
            {"_id": user_id},
            {"$set": {"language": language}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert document is not None  # upserted
        stored: Language = document["language"]
        return stored
