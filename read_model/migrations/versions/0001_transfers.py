"""Transfers as projected from the ledger, their history as rows, the projector's position.

Sized for millions of transfers: states, actions and roles as enums; transaction ids and
pseudonyms as bytes (``read_model.codes``); history keyed by the transfer's number.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None

# The values as of this revision; a later revision adds new ones with ALTER TYPE.
STATES = [
    "INITIALISED",
    "RISK_ACCEPTED",
    "RISK_REJECTED",
    "PATIENT_ACCEPTED",
    "PATIENT_REJECTED",
    "EMERGENCY_BYPASS",
    "DATA_AVAILABLE",
    "DATA_UNAVAILABLE",
    "DATA_TRANSFERRED",
    "DATA_RECEIVED",
    "CLOSED",
    "CONSENT_REVOKED",
    "CANCELLED",
    "EXPIRED",
]
ACTIONS = [
    "create",
    "accept_risk",
    "reject_risk",
    "grant_consent",
    "refuse_consent",
    "bypass_consent",
    "declare_available",
    "declare_unavailable",
    "mark_transferred",
    "mark_received",
    "close",
    "revoke",
    "cancel",
    "expire",
]
ROLES = ("health_professional", "patient", "ops", "system")


def _enum(name: str, values: tuple[str, ...] | list[str]) -> None:
    listed = ", ".join(f"'{value}'" for value in values)
    op.execute(f"CREATE TYPE {name} AS ENUM ({listed})")


def upgrade() -> None:
    _enum("transfer_state", STATES)
    _enum("transfer_action", ACTIONS)
    _enum("actor_role", ROLES)
    op.execute(
        """
        CREATE TABLE transfers (
            transfer_id       text PRIMARY KEY,
            transfer_key      bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
            state             transfer_state NOT NULL,
            previous_state    transfer_state,
            emergency         boolean NOT NULL,
            review_required   boolean NOT NULL,
            requesting_org    text NOT NULL,
            source_org        text NOT NULL,
            patient_pseudonym bytea NOT NULL,
            legal_basis       text,
            reason            text NOT NULL,
            created_at        timestamptz NOT NULL,
            updated_at        timestamptz NOT NULL,
            consent_deadline  timestamptz,
            last_block        bigint NOT NULL,
            last_tx           bytea NOT NULL,
            last_rejection    jsonb
        )
        """
    )
    # One index per way of listing: newest first, with the id to break ties (the keyset).
    for name, column in (
        ("transfers_by_requester", "requesting_org"),
        ("transfers_by_source", "source_org"),
        ("transfers_by_patient", "patient_pseudonym"),
    ):
        op.execute(
            f"CREATE INDEX {name} ON transfers ({column}, updated_at DESC, transfer_id DESC)"
        )
    op.execute(
        """
        CREATE TABLE transfer_history (
            transfer_key  bigint NOT NULL,
            tx            bytea NOT NULL,
            block_number  bigint NOT NULL,
            at            timestamptz NOT NULL,
            from_state    transfer_state,
            to_state      transfer_state NOT NULL,
            action        transfer_action NOT NULL,
            actor_role    actor_role NOT NULL,
            actor_org     text NOT NULL,
            actor_user_id text NOT NULL,
            reason        text,
            legal_basis   text,
            PRIMARY KEY (transfer_key, tx)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE projector_positions (
            topic       text NOT NULL,
            partition   integer NOT NULL,
            next_offset bigint NOT NULL,
            PRIMARY KEY (topic, partition)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE projector_positions")
    op.execute("DROP TABLE transfer_history")
    op.execute("DROP TABLE transfers")
    op.execute("DROP TYPE actor_role")
    op.execute("DROP TYPE transfer_action")
    op.execute("DROP TYPE transfer_state")
