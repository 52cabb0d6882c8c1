"""per-article counters (votes, visible comments), backfilled from the existing rows

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO article_stats (article_slug, helpful, total, comments, comment_version)
SELECT slug, SUM(helpful), SUM(total), SUM(comments), 0 FROM (
    SELECT article_slug AS slug, SUM(CASE WHEN helpful THEN 1 ELSE 0 END) AS helpful, COUNT(*) AS total,
           0 AS comments
    FROM vote GROUP BY article_slug
    UNION ALL
    SELECT article_slug, 0, 0, COUNT(*) FROM comment WHERE hidden_at IS NULL GROUP BY article_slug
) AS parts GROUP BY slug
"""


def upgrade() -> None:
    """Create article_stats and fill it from the votes and comments already there."""
    op.create_table(
        "article_stats",
        sa.Column("article_slug", sa.String(length=200), nullable=False),
        sa.Column("helpful", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("total", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("comments", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("comment_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("article_slug", name=op.f("pk_article_stats")),
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    """Drop it (the counts can always be rebuilt from the votes)."""
    op.drop_table("article_stats")
