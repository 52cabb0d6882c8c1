"""Search-log retention: searches (and their opened hits) older than the configured days are deleted in batches."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from helpdesk.audit.services import SYSTEM, Origin, record_event
from helpdesk.database import utcnow
from helpdesk.search.models import SearchClick, SearchQuery

BATCH = 20_000  # rows per transaction: short locks, and an SQLite IN list well under its variable limit


def sweep_search_log(session: Session, *, days: int, now: dt.datetime | None = None, batch: int = BATCH,
                     origin: Origin = SYSTEM) -> int:
    """Delete searches older than `days` days with their clicks, one committed batch at a time; audit the sweep."""
    if days < 1:
        raise ValueError("the search log must be kept at least one day")
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    removed = 0
    while True:
        # Oldest first along the created_at index: each batch deletes neighbouring index entries and rows.
        oldest = (select(SearchQuery.id).where(SearchQuery.created_at < cutoff)
                  .order_by(SearchQuery.created_at, SearchQuery.id).limit(batch).scalar_subquery())
        session.execute(delete(SearchClick).where(SearchClick.search_id.in_(oldest)))
        deleted = session.execute(delete(SearchQuery).where(SearchQuery.id.in_(oldest))).rowcount
        removed += deleted
        if deleted < batch:
            break
        session.commit()
    # The audit row ends the sweep's last transaction: a sweep that removed rows is always in the trail.
    record_event(session, "search_log_swept", origin=origin, target_type="search_query",
                 detail=f"{removed} searches older than {days} days removed (before {cutoff:%Y-%m-%d %H:%M} UTC)")
    session.commit()
    return removed


def oldest_search(session: Session) -> dt.datetime | None:
    """Return when the oldest search still logged was made."""
    return session.scalar(select(func.min(SearchQuery.created_at)))
