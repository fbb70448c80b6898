"""The baseline of the API's reads: the same queries straight through the driver, at the
same concurrency, with no HTTP, token check or JSON in between."""

from collections.abc import Sequence

from psycopg_pool import AsyncConnectionPool

from curex.bench.load import LoadResult, drive
from read_model.queries import ApplicationsDatabase, Viewer
from schemas import Role


async def direct_reads(
    database_url: str,
    org: str,
    transfer_ids: Sequence[str],
    page_size: int,
    requests: int,
    concurrency: int,
    within: float,
) -> tuple[LoadResult, LoadResult]:
    """(list, read by id) as ``org``'s professional sees them."""
    pool = AsyncConnectionPool(
        database_url,
        min_size=concurrency,
        max_size=concurrency,
        open=False,
        kwargs={"autocommit": True},  # as the API's pool
    )
    await pool.open(wait=True, timeout=60)
    database = ApplicationsDatabase(pool)
    viewer = Viewer(Role.HEALTH_PROFESSIONAL, org, None)

    async def list_page(_: int) -> str | None:
        page = await database.page(viewer, page_size)
        return None if page.items else "empty page"

    async def read_one(index: int) -> str | None:
        found = await database.transfer(transfer_ids[index % len(transfer_ids)])
        return None if found is not None else "not found"

    try:
        listing = await drive(list_page, requests, concurrency, within)
        reading = await drive(read_one, requests, concurrency, within)
    finally:
        await pool.close()
    return listing, reading
