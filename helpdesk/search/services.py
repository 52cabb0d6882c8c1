"""Search log: record each search and the hit the user opened, for the content-gap report."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.insights.rollup import after_click
from helpdesk.search.models import QUERY_MAX, SearchClick, SearchQuery

if TYPE_CHECKING:  # the writer uses these services
    from helpdesk.search.log_writer import SearchLogWriter

SOURCES = ("page", "api", "typeahead")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def log_search(session: Session, query: str, *, hits: int, source: str, person: str | None = None) -> SearchQuery:
    """Record a (normalised) search, its number of hits and who searched (`learning.person_of`, for learning)."""
    if source not in SOURCES:
        raise ValueError(f"unknown search source {source!r}")
    entry = SearchQuery(query=query[:QUERY_MAX], hits=hits, source=source, person=person)
    session.add(entry)
    session.flush()  # the caller needs the id for the result links; the request commits once
    return entry


def log_search_later(
    session: Session, writer: SearchLogWriter, query: str, *, hits: int, source: str, person: str | None = None
) -> None:
    """Record a search whose row nobody reads in this request (the API's): queued for the writer's next batch,
    or in the request's transaction when the writer does not buffer."""
    if source not in SOURCES:
        raise ValueError(f"unknown search source {source!r}")
    if writer.buffered:
        writer.add(query, hits=hits, source=source, person=person)
    else:
        log_search(session, query, hits=hits, source=source, person=person)


def stamp_token(at: dt.datetime) -> str:
    """Return a search's time as the digits a result link carries (microseconds since 1970, exact)."""
    return str((at - _EPOCH) // _MICROSECOND)


def parse_stamp(text: str | None) -> dt.datetime | None:
    """Return the time of a result link's `stamp_token`, or None when it is not one."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > 17:
        return None
    return _EPOCH + int(text) * _MICROSECOND


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
