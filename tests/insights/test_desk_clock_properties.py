"""The dashboard's array business clock gives the scalar clock's integers, instant by instant."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.insights.desk_times import business_clock, business_clock_array
from helpdesk.orm import epoch_micros as micros
from helpdesk.triage.sla import BusinessCalendar, WorkingHours

# Zones with DST (Lord Howe by 30 minutes, St John's at :30 from UTC), without, and far from UTC.
ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Phoenix",
    "Pacific/Honolulu",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Pacific/Guam",
]
FIRST, LAST = dt.datetime(2025, 12, 1, tzinfo=dt.UTC), dt.datetime(2027, 2, 1, tzinfo=dt.UTC)
# Around the 2026 changes of the zones above: instants crowd there as well as over the whole span.
CHANGES = [dt.datetime(2026, m, d, tzinfo=dt.UTC) for m, d in ((3, 8), (3, 29), (4, 5), (10, 4), (10, 25), (11, 1))]


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    """A calendar the clocks apply to (open within 04:00-23:00), random days and holidays, in a random zone."""
    opens = draw(st.integers(4 * 60, 23 * 60 - 1))
    closes = draw(st.integers(opens + 1, 23 * 60))
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    holidays = draw(st.frozensets(st.dates(FIRST.date(), LAST.date()), max_size=20))
    return BusinessCalendar.for_zone(draw(st.sampled_from(ZONES)), WorkingHours(days, opens, closes, holidays))


spread = st.integers(micros(FIRST), micros(LAST))
near_change = st.tuples(st.sampled_from(CHANGES), st.integers(-3 * 86_400_000_000, 3 * 86_400_000_000)).map(
    lambda pair: micros(pair[0]) + pair[1]
)
# Whole hours and minutes too: openings, closings and the changes themselves fall on them.
on_the_minute = spread.map(lambda us: us - us % 60_000_000)


@settings(database=None, deadline=None, max_examples=300)
@given(calendar=calendars(), instants=st.lists(st.one_of(spread, near_change, on_the_minute), max_size=60))
def test_array_clock_equals_scalar_clock(calendar: BusinessCalendar, instants: list[int]) -> None:
    scalar, array = business_clock(calendar), business_clock_array(calendar)
    assert scalar is not None and array is not None
    got = array(np.array(instants, dtype=np.int64))
    assert got.dtype == np.int64
    assert got.tolist() == [scalar(instant) for instant in instants]


def test_array_clock_does_not_apply_where_the_scalar_one_does_not() -> None:
    night = BusinessCalendar.for_zone("America/Chicago", WorkingHours(opens=2 * 60, closes=20 * 60))
    assert business_clock(night) is None and business_clock_array(night) is None
