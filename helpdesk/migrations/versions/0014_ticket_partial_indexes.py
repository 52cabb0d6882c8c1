"""ticket: the assignee, incident and resolved-time indexes hold only rows that have one (the sweep's UPDATEs)

Revision ID: 0014_ticket_partial_indexes
Revises: 0013_job_run
Create Date: 2026-12-07 11:45:00

An UPDATE that changes an indexed column is not HOT on PostgreSQL: every index of the table gets an entry for the
new row version, NULLs included. The escalation sweep moves 100,000 open tickets, none resolved, most with no
incident and, once in a queue, no holder: three of the table's 17 index entries per row go. Every query on these
columns compares them to a value (which implies IS NOT NULL, so both databases still use the index).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_ticket_partial_indexes"
down_revision = "0013_job_run"
branch_labels = None
depends_on = None

PARTIAL = {
    "ix_ticket_assignee_id": "assignee_id",
    "ix_ticket_incident_id": "incident_id",
    "ix_ticket_resolved": "resolved_at",
}


def upgrade() -> None:
    """Recreate the three indexes as partial ones."""
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        for name, column in PARTIAL.items():
            batch_op.drop_index(name)
            where = sa.text(f"{column} IS NOT NULL")
            batch_op.create_index(name, [column], unique=False, postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    """Recreate them whole."""
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        for name, column in PARTIAL.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, [column], unique=False)
