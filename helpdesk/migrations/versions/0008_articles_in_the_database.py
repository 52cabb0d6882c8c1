"""articles in the database: sections, articles, their revisions, old slugs and the content version

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 03:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the kb_* tables and the one content-state row (not yet seeded: the first start imports articles/)."""
    op.create_table(
        "kb_content_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("seeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_content_state")),
    )
    op.create_table(
        "kb_section",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_section")),
        sa.UniqueConstraint("slug", name=op.f("uq_kb_section_slug")),
    )
    op.create_table(
        "kb_article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("current_revision", sa.Integer(), nullable=False),
        sa.Column("published_revision", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["section_id"], ["kb_section.id"], name=op.f("fk_kb_article_section_id_kb_section")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article")),
        sa.UniqueConstraint("slug", name=op.f("uq_kb_article_slug")),
    )
    with op.batch_alter_table("kb_article", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_article_section_id"), ["section_id"], unique=False)

    op.create_table(
        "kb_slug_redirect",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("old_slug", sa.String(length=200), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_article.id"], name=op.f("fk_kb_slug_redirect_article_id_kb_article")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_slug_redirect")),
        sa.UniqueConstraint("old_slug", name=op.f("uq_kb_slug_redirect_old_slug")),
    )
    with op.batch_alter_table("kb_slug_redirect", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_slug_redirect_article_id"), ["article_id"], unique=False)

    op.create_table(
        "kb_article_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_on", sa.Date(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_article.id"], name=op.f("fk_kb_article_revision_article_id_kb_article")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user_account.id"], name=op.f("fk_kb_article_revision_author_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article_revision")),
        sa.UniqueConstraint("article_id", "number", name="uq_kb_article_revision_number"),
    )
    with op.batch_alter_table("kb_article_revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_article_revision_article_id"), ["article_id"], unique=False)
    state = sa.table(
        "kb_content_state",
        sa.column("id", sa.Integer()),
        sa.column("version", sa.Integer()),
        sa.column("seeded", sa.Boolean()),
    )
    op.bulk_insert(state, [{"id": 1, "version": 0, "seeded": False}])


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("kb_article_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_article_revision_article_id"))

    op.drop_table("kb_article_revision")
    with op.batch_alter_table("kb_slug_redirect", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_slug_redirect_article_id"))

    op.drop_table("kb_slug_redirect")
    with op.batch_alter_table("kb_article", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_article_section_id"))

    op.drop_table("kb_article")
    op.drop_table("kb_section")
    op.drop_table("kb_content_state")
