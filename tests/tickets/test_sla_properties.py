"""Properties of business-hours arithmetic over generated zones, hours, holidays and instants."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.triage.sla import BusinessCalendar, WorkingHours, add_business_time, business_time_between

# Zones with DST (some at odd hours, Lord Howe by 30 minutes), without DST, and far from UTC.
ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Pacific/Guam",
]
SETTINGS = settings(database=None, deadline=None, max_examples=200)


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    """A calendar with random open days, hours (whole minutes) and holidays in a random zone."""
    opens = draw(st.integers(0, 24 * 60 - 1))
    closes = draw(st.integers(opens + 1, 24 * 60))  # down to one-minute days, which stress the day loop
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    holidays = draw(st.frozensets(st.dates(dt.date(2025, 12, 1), dt.date(2027, 2, 1)), max_size=20))
    return BusinessCalendar.for_zone(draw(st.sampled_from(ZONES)), WorkingHours(days, opens, closes, holidays))


instants = st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2026, 12, 31), timezones=st.just(dt.UTC))
spans = st.integers(0, 60 * 40).map(lambda minutes: dt.timedelta(minutes=minutes))


@SETTINGS
@given(calendar=calendars(), start=instants, span=spans)
def test_adding_then_measuring_gives_back_the_span(
    calendar: BusinessCalendar, start: dt.datetime, span: dt.timedelta
) -> None:
    due = add_business_time(start, span, calendar)
    assert due >= start
    assert business_time_between(start, due, calendar) == span
    if span:
        # Business time is used up just before the due instant (it may be exactly at closing time).
        assert calendar.is_open(due - dt.timedelta(microseconds=1))


@SETTINGS
@given(calendar=calendars(), start=instants, first=spans, second=spans)
def test_adding_is_monotonic_and_composes(
    calendar: BusinessCalendar, start: dt.datetime, first: dt.timedelta, second: dt.timedelta
) -> None:
    short, long = sorted((first, second))
    assert add_business_time(start, short, calendar) <= add_business_time(start, long, calendar)
    middle = add_business_time(start, first, calendar)
    assert add_business_time(middle, second, calendar) == add_business_time(start, first + second, calendar)


@SETTINGS
@given(calendar=calendars(), points=st.lists(instants, min_size=3, max_size=3))
def test_measuring_is_additive_and_bounded_by_real_time(calendar: BusinessCalendar, points: list[dt.datetime]) -> None:
    a, b, c = sorted(points)
    ab, bc, ac = (business_time_between(x, y, calendar) for x, y in ((a, b), (b, c), (a, c)))
    assert ab + bc == ac
    assert dt.timedelta(0) <= ac <= c - a
    assert business_time_between(c, a, calendar) == -ac
