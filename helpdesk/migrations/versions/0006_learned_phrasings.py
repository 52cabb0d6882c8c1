"""learned phrasings: who searched (hashed), the subject of a deflection, and the phrasings learned from them

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add search_query.person, deflection.query and the learned_phrasing table."""
    with op.batch_alter_table("search_query", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_search_query_person_created", ["person", "created_at"], unique=False)
    with op.batch_alter_table("deflection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("query", sa.String(length=200), nullable=True))
    op.create_table(
        "learned_phrasing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phrase", sa.String(length=200), nullable=False),
        sa.Column("question_key", sa.String(length=500), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["removed_by_id"], ["user_account.id"], name=op.f("fk_learned_phrasing_removed_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learned_phrasing")),
        sa.UniqueConstraint("phrase", "question_key", name="uq_learned_phrasing_phrase_key"),
    )
    with op.batch_alter_table("learned_phrasing", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learned_phrasing_question_key"), ["question_key"], unique=False)


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("learned_phrasing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learned_phrasing_question_key"))
    op.drop_table("learned_phrasing")
    with op.batch_alter_table("deflection", schema=None) as batch_op:
        batch_op.drop_column("query")
    with op.batch_alter_table("search_query", schema=None) as batch_op:
        batch_op.drop_index("ix_search_query_person_created")
        batch_op.drop_column("person")
