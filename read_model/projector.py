"""The read-model projector: committed transactions into the transfers collection.

Each polled batch is folded per transfer in memory (pure ``fold``), then written with
one read and one replace by ``_id`` per transfer: the only access path FerretDB 1.x
serves fast, and one that real MongoDB serves as well. Runs in its own consumer group,
so a slow database never holds back the workflow.
"""

from collections import OrderedDict

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from read_model.documents import (
    ORGANISATIONS_COLLECTION,
    TRANSFERS_COLLECTION,
    StoredDocument,
    TransferView,
    from_stored,
    stored,
)
from read_model.fold import fold
from schemas import LedgerReport, TransactionCommitted


class ReadModelProjector:
    """The single writer of the transfers collection; remembers what it wrote last.

    FerretDB 1.24's SQLite backend scans the whole table for an ``_id`` lookup (its query
    uses another JSON path expression than its ``_id`` index), so reads are avoided where
    the projector already knows the answer: a transfer it wrote recently is in its cache,
    and a transfer whose first report is its creation has no document yet.
    """

    def __init__(
        self, client: AsyncMongoClient[StoredDocument], database: str, cache_size: int = 10_000
    ) -> None:
        db = client[database]
        self._transfers: AsyncCollection[StoredDocument] = db[TRANSFERS_COLLECTION]
        self._organisations: AsyncCollection[StoredDocument] = db[ORGANISATIONS_COLLECTION]
        self._written: OrderedDict[str, TransferView] = OrderedDict()
        self._cache_size = cache_size

    async def project(self, reports: list[LedgerReport]) -> int:
        """Apply a batch; returns how many transfer documents were written."""
        by_transfer: dict[str, list[LedgerReport]] = {}
        for report in reports:
            if isinstance(report, TransactionCommitted) and report.result.transfer is None:
                await self._project_organisation(report)
                continue
            by_transfer.setdefault(report.correlation_id, []).append(report)
        written = 0
        for transfer_id, transfer_reports in by_transfer.items():
            before = await self._known(transfer_id, transfer_reports[0])
            after = fold(before, transfer_reports)
            if after is None or after == before:
                continue
            if before is None:
                try:
                    await self._transfers.insert_one({"_id": transfer_id, **stored(after)})
                except DuplicateKeyError:  # a redelivered creation of a projected transfer
                    before = await self._read(transfer_id)
                    after = fold(before, transfer_reports)
                    assert after is not None
                    await self._transfers.replace_one({"_id": transfer_id}, stored(after))
            else:
                await self._transfers.replace_one({"_id": transfer_id}, stored(after))
            self._remember(transfer_id, after)
            written += 1
        return written

    async def _project_organisation(self, report: TransactionCommitted) -> None:
        """Registered organisations: their policy and the assessment recorded last."""
        result = report.result
        if result.policy is not None:
            org, field = result.policy.org_id, {"policy": result.policy.model_dump(mode="json")}
        elif result.assessment is not None:
            org = result.assessment.org_id
            field = {"last_recorded_assessment": result.assessment.model_dump(mode="json")}
        else:
            return
        await self._organisations.update_one(
            {"_id": org}, {"$set": {**field, "org_id": org}}, upsert=True
        )

    async def _known(self, transfer_id: str, first: LedgerReport) -> TransferView | None:
        if transfer_id in self._written:
            self._written.move_to_end(transfer_id)
            return self._written[transfer_id]
        if (
            isinstance(first, TransactionCommitted)
            and first.result.transfer is not None
            and first.result.transfer.last_transition.from_state is None
        ):
            return None  # its creation: nothing to read (a redelivery is caught on insert)
        return await self._read(transfer_id)

    async def _read(self, transfer_id: str) -> TransferView | None:
        document = await self._transfers.find_one({"_id": transfer_id})
        return None if document is None else from_stored(document)

    def _remember(self, transfer_id: str, view: TransferView) -> None:
        self._written[transfer_id] = view
        self._written.move_to_end(transfer_id)
        while len(self._written) > self._cache_size:
            self._written.popitem(last=False)
