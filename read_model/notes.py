"""Free-text notes on transfers: kept only in the Applications Database, and sealed there.

A note is a person's own words (it may name a condition), so it never goes to Kafka or the
ledger, and it is stored encrypted (AES-256-GCM, the transfer id as associated data) with a
key derived from the installation's pseudonym key (HKDF-SHA256): the database files and
its backups never hold the text.
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from psycopg_pool import AsyncConnectionPool

_NONCE_BYTES = 12
_KEY_INFO = b"curex transfer notes v1"


class NoteSeal:
    def __init__(self, installation_key: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(
            installation_key
        )
        self._aead = AESGCM(key)

    def seal(self, transfer_id: str, note: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, note.encode(), transfer_id.encode())

    def open(self, transfer_id: str, sealed: bytes) -> str | None:
        """The note, or None when it was sealed with another key (or belongs elsewhere)."""
        try:
            plain = self._aead.decrypt(
                sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], transfer_id.encode()
            )
        except InvalidTag:
            return None
        return plain.decode()


class TransferNotes:
    def __init__(self, pool: AsyncConnectionPool, seal: NoteSeal) -> None:
        self._pool = pool
        self._seal = seal

    async def keep(self, transfer_id: str, author: str, note: str) -> None:
        """Keeps the first note of a transfer; a repeated create keeps it unchanged."""
        async with self._pool.connection() as db:
            await db.execute(
                "INSERT INTO transfer_notes (transfer_id, author, sealed) VALUES (%s, %s, %s) "
                "ON CONFLICT (transfer_id) DO NOTHING",
                (transfer_id, author, self._seal.seal(transfer_id, note)),
            )

    async def of(self, transfer_ids: list[str]) -> dict[str, str]:
        """The readable notes of ``transfer_ids``, by transfer id."""
        async with self._pool.connection() as db:
            rows = await (
                await db.execute(
                    "SELECT transfer_id, sealed FROM transfer_notes WHERE transfer_id = ANY(%s)",
                    (transfer_ids,),
                )
            ).fetchall()
        notes = {tid: self._seal.open(tid, bytes(sealed)) for tid, sealed in rows}
        return {tid: note for tid, note in notes.items() if note is not None}
