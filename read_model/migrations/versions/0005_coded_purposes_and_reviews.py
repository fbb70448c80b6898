"""Coded purposes instead of free-text reasons, reviews of emergency bypasses, sealed notes.

``transfers.reason`` becomes ``purpose`` (an HL7 PurposeOfUse code); free text an earlier
version stored there and in the history of creates and cancels is replaced by the code it
is read as. A review is kept on its transfer's row (``review_*``), listed per source
organisation from a partial index. ``transfer_notes`` holds the free-text notes,
encrypted (``read_model.notes``).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"

PURPOSES = ("TREAT", "ETREAT", "CAREMGT", "COC", "PATRQT")
CANCEL_REASONS = (
    "NO_LONGER_NEEDED",
    "ENTERED_IN_ERROR",
    "DUPLICATE_REQUEST",
    "PATIENT_DISCHARGED",
    "OTHER",
)


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def upgrade() -> None:
    op.execute("ALTER TYPE transfer_action ADD VALUE IF NOT EXISTS 'record_review_verdict'")
    op.execute("ALTER TYPE transfer_action ADD VALUE IF NOT EXISTS 'flag_review_overdue'")
    op.execute("ALTER TYPE actor_role ADD VALUE IF NOT EXISTS 'dpo'")
    op.execute("ALTER TABLE transfers RENAME COLUMN reason TO purpose")
    op.execute(
        f"""
        UPDATE transfers
        SET purpose = CASE WHEN emergency THEN 'ETREAT' ELSE 'TREAT' END
        WHERE purpose NOT IN ({_listed(PURPOSES)})
        """
    )
    op.execute(
        """
        UPDATE transfer_history h SET reason = t.purpose
        FROM transfers t
        WHERE h.transfer_key = t.transfer_key AND h.action = 'create'
          AND h.reason IS DISTINCT FROM t.purpose
        """
    )
    op.execute(
        f"""
        UPDATE transfer_history SET reason = 'OTHER'
        WHERE action = 'cancel' AND reason NOT IN ({_listed(CANCEL_REASONS)})
        """
    )
    op.execute(
        """
        ALTER TABLE transfers
            ADD COLUMN review_deadline timestamptz,
            ADD COLUMN review_verdict  text,
            ADD COLUMN review_reason   text,
            ADD COLUMN review_overdue  boolean NOT NULL DEFAULT false
        """
    )
    op.execute(
        """
        CREATE INDEX transfers_reviews ON transfers (source_org, review_deadline, transfer_id)
        WHERE review_required
        """
    )
    op.execute(
        """
        CREATE TABLE transfer_notes (
            transfer_id text PRIMARY KEY,
            author      text NOT NULL,
            sealed      bytea NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE transfer_notes")
    op.execute("DROP INDEX transfers_reviews")
    op.execute(
        "ALTER TABLE transfers DROP COLUMN review_deadline, DROP COLUMN review_verdict, "
        "DROP COLUMN review_reason, DROP COLUMN review_overdue"
    )
    op.execute("ALTER TABLE transfers RENAME COLUMN purpose TO reason")
