"""The notifier's inboxes: each recipient's committed changes, in one global order.

A recipient is an organisation (its professionals see its transfers) or a patient (by
pseudonym). ``seq`` is the order the notifier pushes and replays in: writers take a lock
per transaction, so sequence numbers become visible in order and a reader following
``seq > last`` never skips one. ``inbox_positions`` holds the Kafka positions the inbox
reached, written in the same transaction as the rows.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE inbox (
            seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            recipient    text NOT NULL,
            transfer_id  text NOT NULL,
            tx           bytea NOT NULL,
            block_number bigint NOT NULL,
            from_state   transfer_state,
            to_state     transfer_state NOT NULL,
            at           timestamptz NOT NULL,
            written_at   timestamptz NOT NULL DEFAULT now(),
            UNIQUE (recipient, tx)
        )
        """
    )
    op.execute("CREATE INDEX inbox_by_recipient ON inbox (recipient, seq)")
    # Retention deletes the oldest rows; seq grows with written_at, so the key serves it.
    op.execute("CREATE INDEX inbox_by_age ON inbox (written_at)")
    op.execute(
        """
        CREATE TABLE inbox_positions (
            topic       text NOT NULL,
            partition   integer NOT NULL,
            next_offset bigint NOT NULL,
            PRIMARY KEY (topic, partition)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE inbox_positions")
    op.execute("DROP TABLE inbox")
