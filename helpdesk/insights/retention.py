"""Search-log retention: searches (and their opened hits) older than the configured days are deleted in batches."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import CursorResult, Index, delete, func, select
from sqlalchemy.orm import Session

from helpdesk.audit.services import SYSTEM, Origin, record_event
from helpdesk.insights.rollup import forget_before
from helpdesk.orm import table_of, utcnow
from helpdesk.search.models import SearchClick, SearchQuery

BATCH = 50_000  # ids per transaction: a few large deletes, each committed, with short enough locks
#: SQLite's: each commit writes every page of the person index the batch touched, and 50,000 searches of everyone
#: touch most of it; four times fewer commits write it four times less. The write lock is held about 2 s per batch;
#: a daily sweep (one day's searches) is one small batch either way.
SQLITE_BATCH = 200_000
#: SQLite's page cache during a sweep (KiB; the default is 2,000): the person index (97 MB at 1,000,000 searches)
#: loses its entries in time order, scattered over every person's range; a small cache reread and spilled a page
#: per deleted search. 1,000,000 searches in batches, this cache and batch: CPU 13.3-15.0 -> 8.3-10.0 s, wall
#: 31.7-40.3 -> 12.9-27.5 s (load 6-9, copies of one file, before and after interleaved).
SQLITE_CACHE_KIB = 131_072
#: On SQLite a sweep of more than this share of the log drops the person index and builds it again from the rows
#: left, in the same transaction (the write lock held throughout): deleting an entry from it costs about 6 us of
#: CPU, building one about 2 us. All of 1,000,000 searches: CPU 9.1-10.0 -> 4.0-6.2 s, wall 18-27 -> 8.6-11.9 s
#: (load 6-8). A daily sweep (1/180 of the log) keeps the index.
REBUILD_SHARE = 0.25
_PERSON_INDEX = "ix_search_query_person_created"


def sweep_search_log(
    session: Session,
    *,
    days: int,
    now: dt.datetime | None = None,
    batch: int | None = None,
    origin: Origin = SYSTEM,
) -> int:
    """Delete searches older than `days` days with their clicks, one committed id range at a time; audit the sweep."""
    if days < 1:
        raise ValueError("the search log must be kept at least one day")
    sqlite = session.get_bind().dialect.name == "sqlite"
    rebuild = sqlite and batch is None  # a batch asked for is kept: the rebuild is one transaction
    batch = batch or (SQLITE_BATCH if sqlite else BATCH)
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    old = SearchQuery.created_at < cutoff
    # "+ 0": not the MIN/MAX shortcut along the primary key, which PostgreSQL walks back through every newer search
    # (0.4 s at a million) to find the newest old one; the old searches' own index range instead.
    low, high = session.execute(select(func.min(SearchQuery.id + 0), func.max(SearchQuery.id + 0)).where(old)).one()
    removed = 0
    former = _cache_size(session, -SQLITE_CACHE_KIB) if sqlite else None
    person_index = _person_index() if rebuild and _mostly_old(session, low, high) else None
    if person_index is not None:
        person_index.drop(session.connection())
        batch = (high or 0) - (low or 0) + 1  # one transaction: the log is never left without the index
    try:
        # Oldest first by key range: each batch is two set-wise deletes along the primary key and the clicks'
        # search_id index (no IN list of ids read back, no ORM rows); the date test keeps newer rows in the range.
        for start in range(low or 0, (high or -1) + 1, batch):
            # The last range ends at the newest old search: a daily sweep's few thousand rows, not a batch's span.
            end = min(start + batch, (high or 0) + 1)
            in_range = (SearchQuery.id >= start, SearchQuery.id < end, old)
            if start > (low or 0):
                session.commit()
                if former is not None:  # the next transaction may hold another pooled connection
                    _cache_size(session, -SQLITE_CACHE_KIB)
            session.execute(
                delete(SearchClick).where(
                    SearchClick.search_id >= start,
                    SearchClick.search_id < end,
                    SearchClick.search_id.in_(select(SearchQuery.id).where(*in_range)),
                )
            )
            # cast: Session.execute is declared to return a Result; a DELETE's is a CursorResult (rowcount).
            removed += cast("CursorResult[Any]", session.execute(delete(SearchQuery).where(*in_range))).rowcount
        if person_index is not None:
            person_index.create(session.connection())
        forget_before(session, cutoff)  # the rollups keep nothing the log no longer has
    finally:
        if former is not None:  # a pooled connection keeps no 128 MB cache for the requests it serves next
            _cache_size(session, former)
    # The audit row ends the sweep's last transaction: a sweep that removed rows is always in the trail.
    record_event(
        session,
        "search_log_swept",
        origin=origin,
        target_type="search_query",
        detail=f"{removed} searches older than {days} days removed (before {cutoff:%Y-%m-%d %H:%M} UTC)",
    )
    session.commit()
    return removed


def _mostly_old(session: Session, low: int | None, high: int | None) -> bool:
    """Tell whether the old searches' ids span more than REBUILD_SHARE of the log's (ids grow with time)."""
    if low is None or high is None:
        return False
    newest = session.scalar(select(func.max(SearchQuery.id))) or high
    return high - low + 1 > REBUILD_SHARE * (newest - low + 1)


def _person_index() -> Index:
    """Return the model's person index (its DDL, on SQLite: the columns and name the migrations gave it)."""
    return next(index for index in table_of(SearchQuery).indexes if index.name == _PERSON_INDEX)


def _cache_size(session: Session, setting: int) -> int:
    """Set the SQLite connection's page cache (`PRAGMA cache_size`: pages, or KiB when negative); return the former."""
    connection = session.connection()
    former = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size = {int(setting)}")
    return former


def oldest_search(session: Session) -> dt.datetime | None:
    """Return when the oldest search still logged was made."""
    return session.scalar(select(func.min(SearchQuery.created_at)))
