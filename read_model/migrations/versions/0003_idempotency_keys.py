"""The Applications Server's idempotency keys: which request each key was first used for.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    # scope: a digest of the user, route, transfer and key (no identifier is stored);
    # request: a digest of the body first sent with it.
    op.execute(
        """
        CREATE TABLE idempotency_keys (
            scope      bytea PRIMARY KEY,
            request    bytea NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at)")


def downgrade() -> None:
    op.execute("DROP TABLE idempotency_keys")
