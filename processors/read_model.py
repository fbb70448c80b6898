"""The read-model projector: committed transactions into the transfers collection.

Each polled batch is folded per transfer in memory (pure ``fold``), then written with
one read and one replace by ``_id`` per transfer: the only access path FerretDB 1.x
serves fast, and one that real MongoDB serves as well. Idempotent: a transaction already
in a transfer's history is skipped, and the current state only moves to a later block.
Runs in its own consumer group, so a slow database never holds back the workflow.
"""

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from schemas import CommandRejected, LedgerReport, TransactionCommitted
from schemas.views import (
    ORGANISATIONS_COLLECTION,
    TRANSFERS_COLLECTION,
    Rejection,
    history_entry,
)

Document = dict[str, Any]


def _current(report: TransactionCommitted) -> Document:
    transfer = report.result.transfer
    assert transfer is not None
    move = transfer.last_transition
    return {
        "transfer_id": transfer.transfer_id,
        "state": transfer.state.value,
        "previous_state": move.from_state.value if move.from_state else None,
        "requesting_org": transfer.requesting_org,
        "source_org": transfer.source_org,
        "patient_pseudonym": transfer.patient_pseudonym,
        "emergency": transfer.emergency,
        "review_required": transfer.review_required,
        "legal_basis": transfer.legal_basis,
        "reason": transfer.reason,
        "created_at": transfer.created_at.isoformat(),
        "updated_at": transfer.updated_at.isoformat(),
        "consent_deadline": (
            transfer.consent_deadline.isoformat() if transfer.consent_deadline else None
        ),
        "last_tx_id": report.tx_id,
        "last_block": report.block_number,
    }


def fold(document: Document | None, reports: Iterable[LedgerReport]) -> Document | None:
    """The transfer's read-model document after ``reports``; None while nothing is known."""
    for report in reports:
        if isinstance(report, TransactionCommitted) and report.result.transfer is not None:
            history = [] if document is None else list(document.get("history", []))
            if any(entry["tx_id"] == report.tx_id for entry in history):
                continue  # a redelivered block event
            history.append(history_entry(report).model_dump(mode="json"))
            history.sort(key=lambda entry: (entry["block_number"], entry["tx_id"]))
            if document is None or report.block_number > document["last_block"]:
                document = {**(document or {}), **_current(report)}
            document = {**document, "history": history}
        elif isinstance(report, CommandRejected) and document is not None:
            rejection = Rejection(
                code=report.code,
                reason=report.reason,
                current_state=report.current_state,
                command_event_id=report.command_event_id,
                at=report.occurred_at,
            )
            document = {**document, "last_rejection": rejection.model_dump(mode="json")}
    return document


class ReadModelProjector:
    """The single writer of the transfers collection; remembers what it wrote last.

    FerretDB 1.24's SQLite backend scans the whole table for an ``_id`` lookup (its query
    uses another JSON path expression than its ``_id`` index), so reads are avoided where
    the projector already knows the answer: a transfer it wrote recently is in its cache,
    and a transfer whose first report is its creation has no document yet.
    """

    def __init__(
        self, client: AsyncMongoClient[Document], database: str, cache_size: int = 10_000
    ) -> None:
        self._transfers: AsyncCollection[Document] = client[database][TRANSFERS_COLLECTION]
        self._organisations: AsyncCollection[Document] = client[database][ORGANISATIONS_COLLECTION]
        self._written: OrderedDict[str, Document] = OrderedDict()
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
                    await self._transfers.insert_one({"_id": transfer_id, **after})
                except DuplicateKeyError:  # a redelivered creation of a projected transfer
                    before = await self._transfers.find_one({"_id": transfer_id})
                    if before is not None:
                        before.pop("_id")
                    after = fold(before, transfer_reports)
                    assert after is not None
                    await self._transfers.replace_one({"_id": transfer_id}, after)
            else:
                await self._transfers.replace_one({"_id": transfer_id}, after)
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

    async def _known(self, transfer_id: str, first: LedgerReport) -> Document | None:
        if transfer_id in self._written:
            self._written.move_to_end(transfer_id)
            return self._written[transfer_id]
        if (
            isinstance(first, TransactionCommitted)
            and first.result.transfer is not None
            and first.result.transfer.last_transition.from_state is None
        ):
            return None  # its creation: nothing to read (a redelivery is caught on insert)
        document = await self._transfers.find_one({"_id": transfer_id})
        if document is not None:
            document.pop("_id")
        return document

    def _remember(self, transfer_id: str, document: Document) -> None:
        self._written[transfer_id] = document
        self._written.move_to_end(transfer_id)
        while len(self._written) > self._cache_size:
            self._written.popitem(last=False)
