"""Search log: record each search and the hit the user opened, for the content-gap report."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.insights.rollup import after_click
from helpdesk.orm import epoch_micros, from_epoch_micros
from helpdesk.search.models import QUERY_MAX, SearchClick, SearchQuery

if TYPE_CHECKING:  # the writer uses these services
    from helpdesk.search.log_writer import SearchLogWriter

SOURCES = ("page", "api", "typeahead")


def log_search(session: Session, query: str, *, hits: int, source: str, person: str | None = None) -> SearchQuery:
    """Record a (normalised) search, its number of hits and who searched (`learning.person_of`, for learning)."""
    if source not in SOURCES:
        raise ValueError(f"unknown search source {source!r}")
    entry = SearchQuery(query=query[:QUERY_MAX], hits=hits, source=source, person=person)
    session.add(entry)
    session.flush()  # the caller needs the id for the result links; the request commits once
    return entry


def log_search_later(
    session: Session,
    writer: SearchLogWriter,
    query: str,
    *,
    hits: int,
    source: str,
    person: str | None = None,
    at: dt.datetime | None = None,
) -> SearchQuery | None:
    """Record a search made `at` (default now): queued for the writer's next batch (None), or, when the writer
    does not buffer, written in the request's transaction (its row)."""
    if source not in SOURCES:
        raise ValueError(f"unknown search source {source!r}")
    if not writer.buffered:
        return log_search(session, query, hits=hits, source=source, person=person)
    writer.add(query, hits=hits, source=source, person=person, at=at)
    return None


def stamp_token(at: dt.datetime) -> str:
    """Return a search's time as the digits a result link carries (microseconds since 1970, exact)."""
    return str(epoch_micros(at))


def parse_stamp(text: str | None) -> dt.datetime | None:
    """Return the time of a result link's `stamp_token`, or None when it is not one."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > 17:
        return None
    return from_epoch_micros(int(text))


def find_search(session: Session, *, person: str, at: dt.datetime) -> SearchQuery | None:
    """Return the logged search that `person` made at `at` (to the microsecond), if it is written yet."""
    return session.scalars(
        select(SearchQuery).where(SearchQuery.person == person, SearchQuery.created_at == at).order_by(SearchQuery.id)
    ).first()


def log_click(
    session: Session, search: SearchQuery, *, article_slug: str, question_id: str | None, rank: int | None
) -> SearchClick:
    """Record that a hit of `search` was opened."""
    click = SearchClick(search_id=search.id, article_slug=article_slug, question_id=question_id, rank=rank)
    session.add(click)
    session.flush()
    after_click(session, search)  # a search of a day already rolled up for the reports changes its kind
    return click
