"""Articles kept in the database: sections, articles, every saved revision, old slugs and the content version."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.orm import Base, utcnow

STATUSES = ("draft", "published", "archived")
TITLE_MAX = 200
SLUG_MAX = 200
BODY_MAX = 200_000  # characters of Markdown; a longer body is refused with a message


class Section(Base):
    """A section of the knowledge base (access, privacy, troubleshooting), in the home page's order."""

    __tablename__ = "kb_section"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class Article(Base):
    """An article: its slug, section and status; the text is in its revisions."""

    __tablename__ = "kb_article"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("kb_section.id"), index=True)
    #: draft (never published), published, or archived (taken down; kept with its history).
    status: Mapped[str] = mapped_column(String(16), default="draft")
    #: The latest revision (what the editor opens); may be a draft newer than the published one.
    current_revision: Mapped[int] = mapped_column(Integer, default=0)
    #: The revision readers see (None until first published).
    published_revision: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ArticleRevision(Base):
    """One saved version of an article's text; never changed once written (a restore adds a new one)."""

    __tablename__ = "kb_article_revision"
    __table_args__ = (UniqueConstraint("article_id", "number", name="uq_kb_article_revision_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_article.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    summary: Mapped[str] = mapped_column(Text, default="")
    #: Comma-separated tags, in the order written.
    tags: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    #: The date readers see as "Updated" (from the file's front matter on import, the day of the save otherwise).
    updated_on: Mapped[dt.date | None] = mapped_column(Date)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(String(500), default="")


class SlugRedirect(Base):
    """An article's former slug: its old links lead to the article under its new name."""

    __tablename__ = "kb_slug_redirect"

    id: Mapped[int] = mapped_column(primary_key=True)
    old_slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_article.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ContentState(Base):
    """One row: the content version every worker compares with its own (raised by every change readers see)."""

    __tablename__ = "kb_content_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    #: Set once the first start imported `HELPDESK_ARTICLES_DIR` (or found articles already there).
    seeded: Mapped[bool] = mapped_column(default=False)
