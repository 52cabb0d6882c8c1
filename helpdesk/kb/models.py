"""Knowledge-base state kept in the database: helpfulness votes and comments."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.accounts.models import User
from helpdesk.orm import Base, utcnow

VOTE_REASON_MAX = 500


class Vote(Base):
    """One voter's answer to "Was this article helpful?"; changeable, never duplicated."""

    __tablename__ = "vote"
    __table_args__ = (
        UniqueConstraint("article_slug", "voter_key", name="uq_vote_article_voter"),
        Index("ix_vote_article_helpful", "article_slug", "helpful"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_slug: Mapped[str] = mapped_column(String(200))
    #: "c:<random cookie id>" for a signed-out voter, "u:<user id>" for a signed-in one.
    voter_key: Mapped[str] = mapped_column(String(80))
    helpful: Mapped[bool] = mapped_column(Boolean)
    #: Why the article did not help (only kept with a "No"), for the content editors.
    reason: Mapped[str | None] = mapped_column(String(VOTE_REASON_MAX))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Comment(Base):
    """A signed-in user's comment on an article (Markdown, stored with its sanitised HTML)."""

    __tablename__ = "comment"
    __table_args__ = (Index("ix_comment_article_created", "article_slug", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_slug: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    hidden_at: Mapped[dt.datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    hidden_reason: Mapped[str | None] = mapped_column(String(500))

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")


class ArticleStats(Base):
    """An article's counters, kept exact in the transaction that changes a vote or a comment (cheap to read)."""

    __tablename__ = "article_stats"

    article_slug: Mapped[str] = mapped_column(String(200), primary_key=True)
    helpful: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    total: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    #: Comments readers see (not hidden): a page with none needs no comment query.
    comments: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    #: Raised by every comment change: part of the page's ETag.
    comment_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))
