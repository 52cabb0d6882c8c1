"""ticket: drop ix_ticket_category_created (category, created_at); ix_ticket_report_created serves its reads

Revision ID: 0018_ticket_category_index
Revises: 0017_sweep_index_trim
Create Date: 2026-12-07 19:50:00

Its readers, routing's recent reports and an incident's earlier reports, ask for a category's tickets of the last
window (60 minutes): ix_ticket_report_created leads with created_at and holds category, so both databases read
that short range of it (PostgreSQL from the index alone). On PostgreSQL every row the escalation sweep moves is a
non-HOT update, which wrote an entry into this index too (about 0.45 s of server CPU per 100,000 tickets).
"""

from __future__ import annotations

from alembic import op

revision = "0018_ticket_category_index"
down_revision = "0017_sweep_index_trim"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Drop the index."""
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_category_created")


def downgrade() -> None:
    """Recreate it."""
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_category_created", ["category", "created_at"], unique=False)
