"""The search log (every search and which hit was opened) and the phrasings search learned from it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.orm import Base, utcnow

QUERY_MAX = 200
PERSON_MAX = 64


class SearchQuery(Base):
    """One search as the user sent it (normalised), with its number of hits."""

    __tablename__ = "search_query"
    __table_args__ = (
        Index("ix_search_query_created", "created_at"),
        # A scope's searches (its people's, by time). On PostgreSQL covering, so that the reports read the index
        # alone: without it the planner walked the date index of every search in the period (migration 0016).
        Index(
            "ix_search_query_person_created",
            "person",
            "created_at",
            postgresql_include=["query", "hits", "source", "id"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(QUERY_MAX))
    hits: Mapped[int]
    #: Where the search came from: "page" (the search page), "api", or "typeahead" (a hit opened while typing).
    source: Mapped[str] = mapped_column(String(16))
    #: SHA-256 of who searched (a user, or the address when signed out), so that learning can tell people apart
    #: without the search log holding either; None for searches before it was recorded.
    person: Mapped[str | None] = mapped_column(String(PERSON_MAX))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SearchClick(Base):
    """A search hit the user opened."""

    __tablename__ = "search_click"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The search's id. No foreign key: its check was 90 % of the log sweep on PostgreSQL (one query per deleted
    #: search); the sweep deletes clicks before their searches, and a click is logged for a search just read.
    search_id: Mapped[int] = mapped_column(index=True)
    article_slug: Mapped[str] = mapped_column(String(200))
    question_id: Mapped[str | None] = mapped_column(String(300))
    rank: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LearnedPhrasing(Base):
    """A phrase enough distinct people searched before finding their answer in a question: indexed with it."""

    __tablename__ = "learned_phrasing"
    __table_args__ = (UniqueConstraint("phrase", "question_key", name="uq_learned_phrasing_phrase_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase: Mapped[str] = mapped_column(String(QUERY_MAX))
    #: The search document it leads to: `slug#question-id`, or the slug of an article without questions.
    question_key: Mapped[str] = mapped_column(String(500), index=True)
    people: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: An editor removed it: it stays (removed) so that the same evidence never teaches it again.
    removed_at: Mapped[dt.datetime | None]
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
