"""search log: drop ix_search_query_created, which ix_search_query_report (created_at first) already serves

Every search logged and every search swept updated both; the sweep of a million searches spent a quarter of its
time on it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 04:05:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Drop the redundant index."""
    with op.batch_alter_table("search_query", schema=None) as batch_op:
        batch_op.drop_index("ix_search_query_created")


def downgrade() -> None:
    """Recreate it."""
    with op.batch_alter_table("search_query", schema=None) as batch_op:
        batch_op.create_index("ix_search_query_created", ["created_at"], unique=False)
