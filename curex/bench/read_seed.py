"""Filling the Applications Database with many transfers at once for `curex bench api`:
rows written with COPY straight into the read model, never through the ledger.

Twenty organisations (the two demo ones among them) ask each other for records; every
transfer has a history of three to seven transitions. Times lie in the past, so freshly
created transfers still come first in every list.
"""

import hashlib
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from read_model.codes import pseudonym_key, tx_key
from schemas import TransferState

ORGS = (
    "SE-KI",
    "ES-SERMAS",
    *(f"EU-H{n:02d}" for n in range(18)),
)
S = TransferState
# A plausible path for each history length: the prefix of a full, closed transfer.
_PATH = (
    (None, S.INITIALISED, "create"),
    (S.INITIALISED, S.RISK_ACCEPTED, "accept_risk"),
    (S.RISK_ACCEPTED, S.PATIENT_ACCEPTED, "grant_consent"),
    (S.PATIENT_ACCEPTED, S.DATA_AVAILABLE, "declare_available"),
    (S.DATA_AVAILABLE, S.DATA_TRANSFERRED, "mark_transferred"),
    (S.DATA_TRANSFERRED, S.DATA_RECEIVED, "mark_received"),
    (S.DATA_RECEIVED, S.CLOSED, "close"),
)
_CHUNK = 20_000
_TRANSFER_COLUMNS = (
    "transfer_id, state, previous_state, emergency, review_required, requesting_org, "
    "source_org, patient_pseudonym, legal_basis, purpose, created_at, updated_at, "
    "consent_deadline, last_block, last_tx"
)
_HISTORY_COLUMNS = (
    "transfer_key, tx, block_number, at, from_state, to_state, action, actor_role, "
    "actor_org, actor_user_id, reason, legal_basis"
)

_COPY_TRANSFERS = f"COPY transfers ({_TRANSFER_COLUMNS}) FROM STDIN"
_COPY_HISTORY = f"COPY transfer_history ({_HISTORY_COLUMNS}) FROM STDIN"


@dataclass(frozen=True, slots=True)
class Seeded:
    transfers: int
    history_rows: int
    seconds: float


async def seed_transfers(database_url: str, count: int, seed: int) -> Seeded:
    rng = random.Random(seed)
    end = datetime.now(UTC) - timedelta(days=1)
    started = time.perf_counter()
    history_rows = 0
    async with await psycopg.AsyncConnection.connect(database_url) as db:
        async with db.cursor() as cur:
            # In chunks, so a million transfers' history never sits in memory at once.
            for first in range(0, count, _CHUNK):
                history: dict[str, list[tuple[object, ...]]] = {}
                async with cur.copy(_COPY_TRANSFERS) as out:
                    for n in range(first, min(first + _CHUNK, count)):
                        row, steps = _transfer(rng, n, end)
                        await out.write_row(row)
                        history[str(row[0])] = steps
                # History rows name their transfer by the number the database gave it.
                await cur.execute(
                    "SELECT transfer_id, transfer_key FROM transfers WHERE transfer_id = ANY(%s)",
                    (list(history),),
                )
                keys: dict[str, int] = {tid: key for tid, key in await cur.fetchall()}
                async with cur.copy(_COPY_HISTORY) as out:
                    for transfer_id, steps in history.items():
                        for step in steps:
                            await out.write_row((keys[transfer_id], *step))
                            history_rows += 1
        await db.commit()
        await db.execute("ANALYZE transfers")
        await db.execute("ANALYZE transfer_history")
        await db.commit()
    return Seeded(count, history_rows, time.perf_counter() - started)


def _transfer(
    rng: random.Random, n: int, end: datetime
) -> tuple[tuple[object, ...], list[tuple[object, ...]]]:
    transfer_id = f"tr-{uuid.UUID(int=rng.getrandbits(128)).hex}"
    requesting, source = rng.sample(ORGS, 2)
    patient = hashlib.sha256(f"bench-patient-{rng.randrange(50_000)}".encode()).hexdigest()
    created = end - timedelta(seconds=rng.uniform(0, 365 * 86_400))
    length = rng.randint(3, 7)
    steps: list[tuple[object, ...]] = []
    at = created
    block = n * 7
    for index, (before, after, action) in enumerate(_PATH[:length]):
        at = at + timedelta(seconds=rng.uniform(1, 3_600)) if index else at
        system = action in {"accept_risk", "declare_available"}
        actor_org = source if action in {"declare_available", "mark_transferred"} else requesting
        steps.append(
            (
                tx_key(uuid.UUID(int=rng.getrandbits(128)).hex + uuid.UUID(int=n).hex),
                block + index,
                at,
                before.value if before else None,
                after.value,
                action,
                "system" if system else "health_professional",
                actor_org,
                "curex-processors" if system else f"doctor@{actor_org}",
                None,
                None,
            )
        )
    last = steps[-1]
    row = (
        transfer_id,
        last[4],
        last[3],
        False,
        False,
        requesting,
        source,
        pseudonym_key(patient),
        None,
        "COC",
        created,
        at,
        None,
        last[1],
        last[0],
    )
    return row, steps


async def storage_per_transfer(database_url: str) -> tuple[int, float]:
    """(transfers, bytes per transfer) of the read model's tables with their indexes."""
    async with await psycopg.AsyncConnection.connect(database_url) as db:
        row = await (
            await db.execute(
                "SELECT (SELECT count(*) FROM transfers), "
                "pg_total_relation_size('transfers') + pg_total_relation_size('transfer_history')"
            )
        ).fetchone()
    assert row is not None
    transfers, size = int(row[0]), int(row[1])
    return transfers, size / transfers if transfers else 0.0
