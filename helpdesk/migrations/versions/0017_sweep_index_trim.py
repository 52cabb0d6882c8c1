"""ticket: drop three indexes no query needs (the escalation sweep's UPDATE wrote an entry into each per row)

Revision ID: 0017_sweep_index_trim
Revises: 0016_search_log_cover
Create Date: 2026-12-07 14:00:00

- ix_ticket_reporter_id (reporter_id): uq_ticket_reporter_key (reporter_id, idempotency_key) starts with the same
  column, and both databases read "my requests" (reporter_id = ?) from it once this one is gone.
- ix_ticket_open_due (resolution_due, id) of open tickets: made for the national queue by due time, which has
  ordered overdue work first (a CASE) since; EXPLAIN of every queue query shows neither database reading it.
- ix_ticket_open_tier_due (tier, resolution_due, id) of open tickets: a whole tier's queue, by the same CASE first,
  so only its filter served; SQLite always read ix_ticket_due (status, tier, ...) for it, and PostgreSQL reads that
  one (or the state's ix_ticket_queue_state, 58 -> 5 ms for a compact office queue at 100,000) once it is gone.

Each was written for every row the sweep escalates: on PostgreSQL the UPDATE is not HOT (tier and due times are
indexed), so every index gets an entry per row version; on SQLite the last two hold resolution_due.
Sweep of 100,000 (bench/sweep_profile.py, CPU seconds, load 10-12): the UPDATE 6.8 -> 4.9 s on SQLite,
7.3 -> 6.3 s of server CPU on PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_sweep_index_trim"
down_revision = "0016_search_log_cover"
branch_labels = None
depends_on = None

_OPEN = sa.text("status IN ('new', 'open', 'pending')")


def upgrade() -> None:
    """Drop the three indexes."""
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_open_tier_due")
        batch_op.drop_index("ix_ticket_open_due")
        batch_op.drop_index("ix_ticket_reporter_id")


def downgrade() -> None:
    """Recreate them."""
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_reporter_id", ["reporter_id"], unique=False)
        batch_op.create_index(
            "ix_ticket_open_due",
            ["resolution_due", "id"],
            unique=False,
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
        )
        batch_op.create_index(
            "ix_ticket_open_tier_due",
            ["tier", "resolution_due", "id"],
            unique=False,
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
        )
