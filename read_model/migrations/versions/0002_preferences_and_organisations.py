"""Users' preferences and the registered organisations' policies and latest assessments.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE preferences (
            user_id  text PRIMARY KEY,
            language text NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE organisations (
            org_id                   text PRIMARY KEY,
            policy                   jsonb,
            last_recorded_assessment jsonb
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE organisations")
    op.execute("DROP TABLE preferences")
