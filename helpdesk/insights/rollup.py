"""Daily rollups of the search log: finished days are counted once; the reports read them plus the raw rest."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import InstrumentedAttribute, Session

from helpdesk.insights.models import SearchDay, SearchRollup, SearchWeekPerson
from helpdesk.insights.scope import Period
from helpdesk.orm import utcnow
from helpdesk.search.models import SearchClick, SearchQuery

KINDS = ("zero_result", "no_click", "other")
ALL_DAYS = 0b1111111
#: Advisory-lock key (PostgreSQL) of the rollups: one process rolls or re-rolls at a time.
_LOCK = (7_302, 0)


def kind_of() -> Any:
    """Return the SQL kind of a logged search, as the gap report defines it (typeahead hits are never "no click")."""
    # A probe of the clicks' search_id index per search: an EXISTS in a CASE, PostgreSQL hashes every click first
    # (a day's roll-up then reads the whole click table, twice).
    opened = (
        select(SearchClick.search_id)
        .where(SearchClick.search_id == SearchQuery.id)
        .limit(1)
        .scalar_subquery()
        .is_not(None)
    )
    return case(
        (SearchQuery.hits == 0, "zero_result"),
        (and_(SearchQuery.hits > 0, SearchQuery.source != "typeahead", ~opened), "no_click"),
        else_="other",
    )


def kind_in(kinds: Iterable[str]) -> ColumnElement[bool]:
    """Return the raw-log condition of a search being of one of `kinds`."""
    wanted = set(kinds)
    if wanted >= set(KINDS):
        return literal(True)
    opened = exists().where(SearchClick.search_id == SearchQuery.id)
    each = {
        "zero_result": SearchQuery.hits == 0,
        "no_click": and_(SearchQuery.hits > 0, SearchQuery.source != "typeahead", ~opened),
        "other": ~or_(SearchQuery.hits == 0, and_(SearchQuery.hits > 0, SearchQuery.source != "typeahead", ~opened)),
    }
    return or_(*(each[k] for k in KINDS if k in wanted)) if wanted else false()


def _lock(session: Session) -> None:
    # SQLite writes one transaction at a time already (BEGIN IMMEDIATE); PostgreSQL needs the lock so that two
    # processes never roll the same day twice.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": _LOCK[0], "b": _LOCK[1]})


def _bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def _fill(session: Session, day: dt.date, query: str | None = None) -> None:
    """Insert the rollup rows of one day (of one query only, when given) from the raw log."""
    start, end = _bounds(day)
    where = [SearchQuery.created_at >= start, SearchQuery.created_at < end]
    if query is not None:
        where.append(SearchQuery.query == query)
    rows = (
        select(SearchQuery.query, SearchQuery.hits, SearchQuery.created_at, SearchQuery.person, kind_of().label("kind"))
        .where(*where)
        .subquery()
    )
    on_day = literal(day, Date).label("day")
    counted = select(
        on_day, rows.c.kind, rows.c.query, func.count(), func.max(rows.c.created_at), func.max(rows.c.hits)
    ).group_by(rows.c.kind, rows.c.query)
    session.execute(insert(SearchDay).from_select(["day", "kind", "query", "searches", "last_seen", "shown"], counted))
    week, bit = _week(day)
    people = (
        select(literal(week, Date), rows.c.query, rows.c.kind, rows.c.person, literal(bit))
        .where(rows.c.person.is_not(None))
        .distinct()
    )
    upsert = (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(SearchWeekPerson)
    upsert = upsert.from_select(["week", "query", "kind", "person", "days"], people)
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=["week", "query", "kind", "person"],
            set_={"days": SearchWeekPerson.days.op("|")(upsert.excluded.days)},
        )
    )


def _week(day: dt.date) -> tuple[dt.date, int]:
    """Return the Monday of the day's week and the day's bit in `SearchWeekPerson.days`."""
    return day - dt.timedelta(days=day.weekday()), 1 << day.weekday()


def _unset(session: Session, week: dt.date, mask: int, query: str | None = None) -> None:
    """Keep only the `mask` days of a week's people rows (of one query, when given); drop rows left empty."""
    where = [SearchWeekPerson.week == week] + ([SearchWeekPerson.query == query] if query is not None else [])
    # No ORM object of these rows is ever loaded: nothing to synchronise (the default would RETURNING every key).
    session.execute(
        update(SearchWeekPerson)
        .where(*where, SearchWeekPerson.days.op("&")(ALL_DAYS & ~mask) != 0)
        .values(days=SearchWeekPerson.days.op("&")(mask))
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(SearchWeekPerson).where(*where, SearchWeekPerson.days == 0))


def _clear(session: Session, day: dt.date, query: str | None = None) -> None:
    where = [SearchDay.day == day] + ([SearchDay.query == query] if query is not None else [])
    session.execute(delete(SearchDay).where(*where))
    week, bit = _week(day)
    _unset(session, week, ALL_DAYS & ~bit, query)


def roll_up_search_log(session: Session, *, now: dt.datetime | None = None) -> int:
    """Roll up every finished day of the log not rolled yet (yesterday and any missed before), each day committed.

    Idempotent: a day already rolled (by this or another process) is skipped; returns the days rolled."""
    today = (now or utcnow()).date()
    first = session.scalar(select(func.min(SearchQuery.created_at)))
    session.rollback()
    if first is None:
        return 0
    rolled = 0
    day = first.date()
    while day < today:
        _lock(session)
        if session.get(SearchRollup, day) is None:
            # A day is rolled whole or not at all (one transaction): no rows of it are there yet.
            _fill(session, day)
            session.add(SearchRollup(day=day))
            rolled += 1
        session.commit()
        day += dt.timedelta(days=1)
    return rolled


def reroll(session: Session, day: dt.date, query: str | None = None) -> None:
    """Count a rolled day (or one query of it) again from the raw log, after a late click or a partial sweep."""
    _lock(session)
    if session.get(SearchRollup, day) is not None:
        _clear(session, day, query)
        _fill(session, day, query)


def after_click(session: Session, search: SearchQuery) -> None:
    """Keep a rolled day right when one of its searches is opened late (its kind may change from "no click")."""
    created = search.created_at if search.created_at.tzinfo else search.created_at.replace(tzinfo=dt.UTC)
    if created.date() < utcnow().date():  # today's searches are never rolled: no query for the usual click
        reroll(session, created.date(), search.query)


def forget_before(session: Session, cutoff: dt.datetime) -> None:
    """Delete the rollups of days the sweep emptied; re-count the day it emptied in part (same retention)."""
    for table in (SearchDay, SearchRollup):
        session.execute(delete(table).where(table.day < cutoff.date()))
    week, bit = _week(cutoff.date())
    # Whole weeks go once a week: the oldest week first (the key's first entry), as PostgreSQL may read the table
    # to find none.
    oldest = session.scalar(select(func.min(SearchWeekPerson.week)))
    if oldest is not None and oldest < week:
        session.execute(delete(SearchWeekPerson).where(SearchWeekPerson.week < week))
    _unset(session, week, ALL_DAYS & ~(bit - 1))  # the cutoff's weekday and those after it
    if cutoff.time() != dt.time():
        reroll(session, cutoff.date())


def rolled_days(session: Session, period: Period) -> list[dt.date]:
    """Return the days of the period the rollups hold."""
    return list(
        session.scalars(
            select(SearchRollup.day).where(SearchRollup.day >= period.first, SearchRollup.day <= period.last)
        )
    )


def raw_ranges(period: Period, rolled: list[dt.date]) -> ColumnElement[bool]:
    """Return the raw-log condition of the period's days that are not rolled up (runs of days as time ranges)."""
    done, runs, start = set(rolled), [], None
    for day in [*period.days(), None]:
        if day is not None and day not in done:
            start = start or _bounds(day)[0]
        elif start is not None:
            end = _bounds(day)[0] if day is not None else period.end
            runs.append(and_(SearchQuery.created_at >= start, SearchQuery.created_at < end))
            start = None
    return or_(*runs) if runs else false()


def _raw_where(
    period: Period, rolled: list[dt.date], kinds: Iterable[str], people: list[str] | None
) -> list[ColumnElement[bool]]:
    where = [raw_ranges(period, rolled), kind_in(kinds)]  # the ranges only: one index range each
    if people is not None:
        where.append(SearchQuery.person.in_(people or [""]))
    return where


def query_counts(
    session: Session, period: Period, kinds: tuple[str, ...], people: list[str] | None, *, limit: int
) -> list[tuple[str, int, dt.datetime, int]]:
    """Return (query, searches, last seen, most shown) of the period's most frequent queries of `kinds`.

    Everyone's (people None): the rolled days from the rollup, the others from the raw log, added up in one
    statement. A scope's people are resolved now, as they are in the raw log: their searches are read raw."""
    rolled = rolled_days(session, period) if people is None else []
    raw = (
        select(
            SearchQuery.query.label("query"),
            func.count().label("n"),
            func.max(SearchQuery.created_at).label("last"),
            func.max(SearchQuery.hits).label("shown"),
        )
        .where(*_raw_where(period, rolled, kinds, people))
        .group_by(SearchQuery.query)
    )
    if rolled:
        daily = select(
            SearchDay.query.label("query"),
            SearchDay.searches.label("n"),
            SearchDay.last_seen.label("last"),
            SearchDay.shown.label("shown"),
        ).where(SearchDay.day >= period.first, SearchDay.day <= period.last, SearchDay.kind.in_(kinds))
        both = raw.union_all(daily).subquery()
        raw = select(both.c.query, func.sum(both.c.n), func.max(both.c.last), func.max(both.c.shown)).group_by(
            both.c.query
        )
        order: list[ColumnElement[Any] | InstrumentedAttribute[str]] = [func.sum(both.c.n).desc(), both.c.query]
    else:
        order = [func.count().desc(), SearchQuery.query]
    return [
        (q, int(n), last if last.tzinfo else last.replace(tzinfo=dt.UTC), int(shown or 0))
        for q, n, last, shown in session.execute(raw.order_by(*order).limit(limit))
    ]


def query_people(
    session: Session, period: Period, kinds: tuple[str, ...], people: list[str] | None, groups: list[list[str]]
) -> list[int]:
    """Return, for each group of queries (typo variants), how many distinct people searched any of them."""
    variants = {query: index for index, group in enumerate(groups) for query in group}
    if not variants:
        return []
    rolled = rolled_days(session, period) if people is None else []
    parts = [
        select(SearchQuery.query.label("query"), SearchQuery.person.label("person")).where(
            *_raw_where(period, rolled, kinds, people),
            SearchQuery.query.in_(list(variants)),
            SearchQuery.person.is_not(None),
        )
    ]
    if rolled:  # equalities on the key's first columns: one index seek per (week, query, kind)
        weeks: dict[dt.date, int] = defaultdict(int)
        for day in rolled:
            week, bit = _week(day)
            weeks[week] |= bit
        on_days = case(weeks, value=SearchWeekPerson.week) if len(weeks) > 1 else literal(next(iter(weeks.values())))
        parts.append(
            select(SearchWeekPerson.query, SearchWeekPerson.person).where(
                SearchWeekPerson.week.in_(list(weeks)),
                SearchWeekPerson.query.in_(list(variants)),
                SearchWeekPerson.kind.in_(kinds),
                SearchWeekPerson.days.op("&")(on_days) != 0,
            )
        )
    both = union_all(*parts).subquery()
    # Counted in the database, by group: someone who typed two spellings of one group is one person. The distinct
    # (group, person) pairs first, then a count per group: SQLite's COUNT(DISTINCT) under a GROUP BY sorts the rows
    # twice (a temp B-tree for each), 30-40 % slower on the national lists (26,000 rows for the no-click one).
    group = case(variants, value=both.c.query) if len(variants) > 1 else literal(0)
    pairs = select(group.label("grp"), both.c.person).distinct().subquery()
    counts: dict[int, int] = dict(session.execute(select(pairs.c.grp, func.count()).group_by(pairs.c.grp)).all())
    return [int(counts.get(index, 0)) for index in range(len(groups))]
