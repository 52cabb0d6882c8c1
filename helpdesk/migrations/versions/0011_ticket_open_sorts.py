"""open tickets by last change and by first response due (the national "everything" queue's other sorts)

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

OPEN = "status IN ('new', 'open', 'pending')"


def upgrade() -> None:
    """Add the partial indexes of open tickets by (updated_at, id) and by (answered, first_response_due, id)."""
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_open_updated",
            ["updated_at", "id"],
            unique=False,
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )
    # An expression leads this one: created outside the batch so SQLite keeps it as written.
    op.create_index(
        "ix_ticket_open_response",
        "ticket",
        [sa.text("(first_responded_at IS NOT NULL)"), "first_response_due", "id"],
        unique=False,
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_ticket_open_response", table_name="ticket")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_open_updated")
