"""What operations watch in the Applications Database: transfers per state, and transfers
stuck in a non-final state longer than their home organisation's consent time limit.

Counting scans the transfers table, so the projector refreshes these figures now and then
(``report_transfer_states``) rather than per request.
"""

import asyncio
from dataclasses import dataclass
from datetime import datetime

import psycopg
import structlog
from prometheus_client import Gauge
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from schemas.states import FINAL_STATES, TransferState

log = structlog.get_logger()
PER_STATE = Gauge("curex_transfers", "Transfers in the read model, by state", ["state"])
STUCK = Gauge(
    "curex_transfers_stuck",
    "Transfers in a non-final state longer than their home organisation's time limit",
    ["state"],
)
# Used when an organisation registered no policy yet.
DEFAULT_LIMIT_S = 24 * 3600
_FINAL = [state.value for state in FINAL_STATES]
_STUCK_WHERE = """
FROM transfers t LEFT JOIN organisations o ON o.org_id = t.source_org
WHERE t.state::text <> ALL(%s)
  AND t.updated_at < now() - make_interval(
        secs => coalesce((o.policy->>'consent_time_limit_s')::double precision, %s))
"""


@dataclass(frozen=True, slots=True)
class StuckTransfer:
    transfer_id: str
    state: str
    since: datetime


async def transfers_per_state(pool: AsyncConnectionPool) -> dict[str, int]:
    async with pool.connection() as db:
        rows = await (
            await db.execute("SELECT state::text, count(*) FROM transfers GROUP BY state")
        ).fetchall()
    return {state: int(count) for state, count in rows}


async def stuck_per_state(pool: AsyncConnectionPool) -> dict[str, int]:
    async with pool.connection() as db:
        rows = await (
            await db.execute(
                f"SELECT t.state::text, count(*) {_STUCK_WHERE} GROUP BY t.state",
                (_FINAL, DEFAULT_LIMIT_S),
            )
        ).fetchall()
    return {state: int(count) for state, count in rows}


async def stuck_transfers(pool: AsyncConnectionPool, limit: int) -> list[StuckTransfer]:
    """The most recently stuck first: a new incident is not hidden behind transfers that
    have been stuck for weeks (those stay counted in the stuck gauge)."""
    async with pool.connection() as db:
        rows = await (
            await db.execute(
                f"SELECT t.transfer_id, t.state::text, t.updated_at {_STUCK_WHERE} "
                "ORDER BY t.updated_at DESC LIMIT %s",
                (_FINAL, DEFAULT_LIMIT_S, limit),
            )
        ).fetchall()
    return [StuckTransfer(tid, state, since) for tid, state, since in rows]


async def report_transfer_states(pool: AsyncConnectionPool, every_s: float) -> None:
    """Keeps the per-state and stuck gauges current, every ``every_s``."""
    while True:
        try:
            counts = await transfers_per_state(pool)
            stuck = await stuck_per_state(pool)
        except (psycopg.OperationalError, PoolTimeout) as error:
            log.warning("transfer counts skipped: database unavailable", error=str(error))
        else:
            for state in counts:
                PER_STATE.labels(state).set(counts[state])
            for state in TransferState:
                if state not in FINAL_STATES:
                    STUCK.labels(state.value).set(stuck.get(state.value, 0))
        await asyncio.sleep(every_s)  # a periodic refresh, not a wait for an event
