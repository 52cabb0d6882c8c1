"""The search log: every search and which hit was opened, for the content-gap report."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.database import Base, utcnow

QUERY_MAX = 200


class SearchQuery(Base):
    """One search as the user sent it (normalised), with its number of hits."""

    __tablename__ = "search_query"
    __table_args__ = (Index("ix_search_query_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(QUERY_MAX))
    hits: Mapped[int]
    #: Where the search came from: "page" (the search page), "api", or "typeahead" (a hit opened while typing).
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SearchClick(Base):
    """A search hit the user opened."""

    __tablename__ = "search_click"

    id: Mapped[int] = mapped_column(primary_key=True)
    search_id: Mapped[int] = mapped_column(ForeignKey("search_query.id"), index=True)
    article_slug: Mapped[str] = mapped_column(String(200))
    question_id: Mapped[str | None] = mapped_column(String(300))
    rank: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
