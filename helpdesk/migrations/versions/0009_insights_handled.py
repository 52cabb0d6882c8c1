"""insights: the history of handled content-gap items, and search-log indexes for the reports and the sweep

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 03:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the insight_handled table and an index of the search log by query."""
    op.create_table(
        "insight_handled",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_key", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("handled_by_id", sa.Integer(), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["handled_by_id"], ["user_account.id"], name=op.f("fk_insight_handled_handled_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_handled")),
    )
    with op.batch_alter_table("insight_handled", schema=None) as batch_op:
        batch_op.create_index("ix_insight_handled_kind_key", ["kind", "item_key", "handled_at"], unique=False)
    with op.batch_alter_table("search_click", schema=None) as batch_op:
        batch_op.create_index("ix_search_click_created", ["created_at"], unique=False)
    with op.batch_alter_table("search_query", schema=None) as batch_op:
        batch_op.create_index(
            "ix_search_query_report", ["created_at", "query", "hits", "source", "person"], unique=False
        )
    with op.batch_alter_table("deflection", schema=None) as batch_op:
        batch_op.create_index("ix_deflection_created", ["created_at"], unique=False)
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_created", ["created_at"], unique=False)
        batch_op.create_index("ix_ticket_state_created", ["state_code", "created_at"], unique=False)
        batch_op.create_index("ix_ticket_resolved", ["resolved_at"], unique=False)


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_resolved")
        batch_op.drop_index("ix_ticket_state_created")
        batch_op.drop_index("ix_ticket_created")
    with op.batch_alter_table("deflection", schema=None) as batch_op:
        batch_op.drop_index("ix_deflection_created")
    with op.batch_alter_table("search_query", schema=None) as batch_op:
        batch_op.drop_index("ix_search_query_report")
    with op.batch_alter_table("search_click", schema=None) as batch_op:
        batch_op.drop_index("ix_search_click_created")
    with op.batch_alter_table("insight_handled", schema=None) as batch_op:
        batch_op.drop_index("ix_insight_handled_kind_key")
    op.drop_table("insight_handled")
