"""The daily rollups of the search log give the same figures as the raw log, through late clicks and sweeps."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from helpdesk.extensions import db
from helpdesk.insights.desk_reading import top_searches
from helpdesk.insights.gaps import failed_searches
from helpdesk.insights.models import SearchDay, SearchRollup, SearchWeekPerson
from helpdesk.insights.retention import sweep_search_log
from helpdesk.insights.rollup import roll_up_search_log
from helpdesk.insights.scope import Period
from helpdesk.search.models import SearchClick, SearchQuery
from helpdesk.search.services import log_click

pytestmark = pytest.mark.db

DAY0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
#: Typo variants (grouped together), different queries, and people (None: before people were recorded).
QUERIES = [
    "password reset",
    "pasword reset",
    "password resett",
    "vpn access",
    "vpn acess",
    "printer",
    "printr",
    "fax",
    "zorblax quuxer",
]
PEOPLE = ["p1", "p2", "p3", "p4", None]
SEARCH = st.tuples(
    st.sampled_from(QUERIES),
    st.sampled_from([0, 0, -1, 1, 3, 12]),
    st.sampled_from(["page", "api", "typeahead"]),
    st.sampled_from(PEOPLE),
    st.integers(0, 10 * 86_400 - 1),
    st.sampled_from(["no", "yes", "late"]),
)
DAY = st.integers(0, 9)


def _fill(session: Session, searches: list[tuple[str, int, str, str | None, int, str]]) -> None:
    for table in (SearchClick, SearchQuery, SearchDay, SearchRollup, SearchWeekPerson):
        session.execute(delete(table))
    for query, hits, source, person, second, clicked in searches:
        at = DAY0 + dt.timedelta(seconds=second)
        row = SearchQuery(query=query, hits=hits, source=source, person=person, created_at=at)
        session.add(row)
        session.flush()
        if clicked == "yes":
            session.add(SearchClick(search_id=row.id, article_slug="a", rank=1, created_at=at))
    session.commit()


#: Everyone (rollups and the raw log), and two states' people (a scope's searches are read raw).
SCOPES: list[list[str] | None] = [None, ["p1"], ["p2", "p3"], []]


def _figures(session: Session, period: Period) -> Any:
    return [(failed_searches(session, period, people), top_searches(session, period, people)) for people in SCOPES]


def _reference(session: Session, period: Period) -> Any:
    """The figures from the raw log alone: the rollup markers taken away, then put back."""
    rolled = session.execute(select(SearchRollup.day, SearchRollup.rolled_at)).all()
    session.execute(delete(SearchRollup))
    session.commit()
    figures = _figures(session, period)
    session.add_all([SearchRollup(day=day, rolled_at=at) for day, at in rolled])
    session.commit()
    return figures


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    searches=st.lists(SEARCH, max_size=40),
    first=DAY,
    length=DAY,
    rolled_to=st.integers(0, 11),
    kept=st.integers(1, 12),
    swept_at=st.integers(0, 86_399),
)
def test_rollup_backed_figures_equal_the_raw_log(
    app: Flask, searches: list[Any], first: int, length: int, rolled_to: int, kept: int, swept_at: int
) -> None:
    period = Period((DAY0 + dt.timedelta(days=first)).date(), (DAY0 + dt.timedelta(days=first + length)).date())
    with app.app_context():
        session = db.session
        _fill(session, searches)
        reference = _figures(session, period)
        # Days before `rolled_to` are finished and rolled up; the rest is read raw.
        roll_up_search_log(session, now=DAY0 + dt.timedelta(days=rolled_to, hours=1))
        assert _figures(session, period) == reference
        assert roll_up_search_log(session, now=DAY0 + dt.timedelta(days=rolled_to, hours=2)) == 0  # idempotent
        # Searches of rolled days opened late: they leave "no click", in the rollups too.
        logged = session.scalars(select(SearchQuery).order_by(SearchQuery.id)).all()
        for row, (*_search, clicked) in zip(logged, searches, strict=True):
            if clicked == "late":
                log_click(session, row, article_slug="a", question_id=None, rank=1)
        session.commit()
        assert _figures(session, period) == _reference(session, period)
        # The sweep cuts a day in two: the rollups keep exactly what the raw log keeps.
        sweep_search_log(session, days=kept, now=DAY0 + dt.timedelta(days=kept + first, seconds=swept_at))
        assert _figures(session, period) == _reference(session, period)
        # Same retention: no rollup row remembers a day before the cutoff.
        cutoff = (DAY0 + dt.timedelta(days=first, seconds=swept_at)).date()
        assert session.scalar(select(func.count()).select_from(SearchDay).where(SearchDay.day < cutoff)) == 0
        for week, days in session.execute(select(SearchWeekPerson.week, SearchWeekPerson.days)):
            assert days and all(week + dt.timedelta(days=d) >= cutoff for d in range(7) if days & (1 << d))
        session.rollback()


def test_rolled_figures_are_read_from_the_rollup(app: Flask) -> None:
    """A rolled day's figures come from search_day: the raw rows are not read again (proved by changing them)."""
    with app.app_context():
        session = db.session
        _fill(
            session,
            [
                ("fax", 0, "page", "p1", 3600, False),
                ("fax", 0, "page", "p2", 7200, False),
                ("fax", 0, "page", "p1", 86_400 + 60, False),
            ],
        )
        assert roll_up_search_log(session, now=DAY0 + dt.timedelta(days=1, hours=3)) == 1  # 1 March only
        rows = session.execute(select(SearchDay.day, SearchDay.kind, SearchDay.query, SearchDay.searches)).all()
        assert rows == [(DAY0.date(), "zero_result", "fax", 2)]
        # 1 March 2026 is a Sunday: weekday 6 of the week of 23 February.
        assert set(session.execute(select(SearchWeekPerson.week, SearchWeekPerson.person, SearchWeekPerson.days))) == {
            (dt.date(2026, 2, 23), "p1", 64),
            (dt.date(2026, 2, 23), "p2", 64),
        }
        period = Period(DAY0.date(), DAY0.date() + dt.timedelta(days=1))
        [fax] = failed_searches(session, period, None)["zero_result"]
        assert (fax.searches, fax.people) == (3, 2)
        session.execute(delete(SearchQuery).where(SearchQuery.created_at < DAY0 + dt.timedelta(days=1)))
        [fax] = failed_searches(session, period, None)["zero_result"]
        assert (fax.searches, fax.people) == (3, 2)
        session.rollback()


def test_the_daily_job_rolls_up_and_a_second_run_does_nothing(app: Flask, runner: Any) -> None:
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        _fill(db.session, [("fax", 0, "page", "p1", 0, False)])
        db.session.execute(SearchQuery.__table__.update().values(created_at=now - dt.timedelta(days=3)))
        db.session.commit()
    output = runner.invoke(args=["searchlog", "sweep"]).output
    assert "3 days rolled up" in output, output  # three days ago, the day before yesterday, yesterday
    assert "0 days rolled up" in runner.invoke(args=["searchlog", "sweep"]).output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SearchRollup)) == 3


def test_people_are_counted_once_per_group_across_weeks_spellings_and_the_raw_log(app: Flask) -> None:
    """A person who typed two spellings of one group, in two rolled weeks and today (raw), is one person."""
    day = 86_400
    searches = [
        ("password reset", 0, "page", "p1", 3600, "no"),  # Sunday 1 March: the week of 23 February
        ("pasword reset", 0, "page", "p1", day + 3600, "no"),  # Monday 2 March: the next week
        ("password reset", 0, "page", "p1", 2 * day + 3600, "no"),  # 3 March: not rolled, read raw
        ("password reset", 0, "page", "p2", 3600, "no"),
        ("password reset", 0, "api", "p2", day + 7200, "no"),
        ("pasword reset", 0, "page", "p3", 2 * day + 7200, "no"),
        ("password reset", 0, "page", None, day + 60, "no"),  # before people were recorded: searched, no person
        ("printer", 0, "page", "p1", 60, "no"),
        ("printer", 0, "page", "p4", day + 60, "no"),
        ("printer", 3, "page", "p2", day + 120, "no"),  # a no-click search: another list
    ]
    with app.app_context():
        session = db.session
        _fill(session, searches)
        assert roll_up_search_log(session, now=DAY0 + dt.timedelta(days=2, hours=3)) == 2
        period = Period(DAY0.date(), DAY0.date() + dt.timedelta(days=2))
        found = failed_searches(session, period, None)
        by_hand = {
            "zero_result": [
                ("password reset", ["password reset", "pasword reset"], 7, 3),
                ("printer", ["printer"], 2, 2),
            ],
            "no_click": [("printer", ["printer"], 1, 1)],
        }
        assert {k: [(g.query, g.variants, g.searches, g.people) for g in v] for k, v in found.items()} == by_hand
        assert _figures(session, period) == _reference(session, period)
        session.rollback()
