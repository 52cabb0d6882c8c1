"""insights: the desk's ticket reads from indexes (the period's requests covered; open requests by state and age)

Revision ID: 0015_insights_desk_indexes
Revises: 0014_ticket_partial_indexes
Create Date: 2026-12-07 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_insights_desk_indexes"
down_revision = "0014_ticket_partial_indexes"
branch_labels = None
depends_on = None

_OPEN = sa.text("status IN ('new', 'open', 'pending')")


def upgrade() -> None:
    """Replace ix_ticket_created by a covering index of the desk's period reads; add the open requests' index."""
    # Same leading column as ix_ticket_created (every range on created_at still seeks it), plus what the desk's
    # per-day, breakdown, SLA and business-time reads of a period's requests need: no table lookup per request.
    op.drop_index("ix_ticket_created", table_name="ticket")
    op.create_index(
        "ix_ticket_report_created",
        "ticket",
        [
            "created_at",
            "tier",
            "category",
            "state_code",
            "agency_id",
            "first_responded_at",
            "resolved_at",
            "first_response_due",
            "resolution_due",
        ],
        unique=False,
    )
    # The backlog by age: open requests only, status last so that the index alone answers (SQLite cannot tell
    # from the index's condition that a row's status is open).
    op.create_index(
        "ix_ticket_open_created",
        "ticket",
        ["state_code", "created_at", "status"],
        unique=False,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )


def downgrade() -> None:
    """Restore ix_ticket_created; drop the two indexes."""
    op.drop_index("ix_ticket_open_created", table_name="ticket")
    op.drop_index("ix_ticket_report_created", table_name="ticket")
    op.create_index("ix_ticket_created", "ticket", ["created_at"], unique=False)
