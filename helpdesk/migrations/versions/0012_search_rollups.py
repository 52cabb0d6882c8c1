"""insights: daily rollups of the search log (search_day, search_week_person, search_rollup); the report index goes

Revision ID: 0012_search_rollups
Revises: 0011
Create Date: 2026-12-07 05:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_search_rollups"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the rollup tables; drop ix_search_query_report (the national reports read the rollups now)."""
    op.create_table(
        "search_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("searches", sa.Integer(), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shown", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "kind", "query", name=op.f("pk_search_day")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "search_week_person",
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("week", "query", "kind", "person", name=op.f("pk_search_week_person")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "search_rollup",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_search_rollup")),
    )
    # Every row deleted by the sweep paid for this five-column index; only the national reports' scans used it.
    with op.batch_alter_table("search_query", schema=None) as batch_op:
        batch_op.drop_index("ix_search_query_report")


def downgrade() -> None:
    """Restore the index; drop the rollups."""
    with op.batch_alter_table("search_query", schema=None) as batch_op:
        batch_op.create_index(
            "ix_search_query_report", ["created_at", "query", "hits", "source", "person"], unique=False
        )
    op.drop_table("search_rollup")
    op.drop_table("search_week_person")
    op.drop_table("search_day")
