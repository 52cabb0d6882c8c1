"""The O(1) business-hours difference of the dashboard equals the SLA module's day-by-day walk."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from helpdesk.insights.desk_times import percentile, wall_clock_hours
from helpdesk.triage.sla import BusinessCalendar, WorkingHours, business_time_between


@pytest.mark.parametrize("zone", ["America/Chicago", "America/New_York", "America/Phoenix", "Pacific/Honolulu"])
def test_wall_clock_hours_match_business_time_between(zone: str) -> None:
    holidays = frozenset({dt.date(2026, 3, 9), dt.date(2026, 11, 2), dt.date(2026, 12, 25), dt.date(2026, 3, 14)})
    calendar = BusinessCalendar.for_zone(zone, WorkingHours(holidays=holidays))
    fast = wall_clock_hours(calendar)
    assert fast is not None
    rng = random.Random(zone)
    start = dt.datetime(2026, 2, 20, tzinfo=dt.UTC)  # across both daylight-saving changes and the holidays
    for _ in range(400):
        a = start + dt.timedelta(minutes=rng.randint(0, 300 * 1440))
        b = a + dt.timedelta(minutes=rng.choice([rng.randint(0, 600), rng.randint(0, 40 * 1440)]))
        expected = business_time_between(a, b, calendar).total_seconds() / 3600
        assert fast(a, b) == pytest.approx(expected, abs=1e-6), (a, b)


def test_calendars_spanning_the_night_use_the_walk() -> None:
    assert wall_clock_hours(BusinessCalendar.for_zone("America/Chicago", WorkingHours(opens=0, closes=1440))) is None


def test_percentiles_by_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert (percentile([1.0, 5.0], 0.5), percentile([1.0, 5.0], 0.9)) == (1.0, 5.0)
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.0
