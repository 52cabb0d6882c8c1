"""job_run: the last pass of each periodic job across hosts (a pass claimed within its interval runs once)

Revision ID: 0013_job_run
Revises: 0012_search_rollups
Create Date: 2026-12-07 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_job_run"
down_revision = "0012_search_rollups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add job_run."""
    op.create_table(
        "job_run",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_run")),
    )


def downgrade() -> None:
    """Drop job_run."""
    op.drop_table("job_run")
