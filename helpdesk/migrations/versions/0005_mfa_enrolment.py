"""authenticators being set up: the pending secret kept on the server, not in the session cookie

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the mfa_enrolment table."""
    op.create_table(
        "mfa_enrolment",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_mfa_enrolment_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_enrolment")),
    )
    with op.batch_alter_table("mfa_enrolment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mfa_enrolment_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mfa_enrolment_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("mfa_enrolment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mfa_enrolment_expires_at"))
        batch_op.drop_index(batch_op.f("ix_mfa_enrolment_user_id"))
    op.drop_table("mfa_enrolment")
