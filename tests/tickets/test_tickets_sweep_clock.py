"""The sweep's day-by-day business clock agrees with sla.business_time_between, holidays and DST included."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.tickets.escalation.deciding import BusinessClock
from helpdesk.triage.policy import load_policy
from helpdesk.triage.sla import WorkingHours, business_time_between

POLICY = load_policy(Path(__file__).resolve().parents[2] / "tickets")
#: Saturday-morning opening hours, a holiday on a Monday and one on the day DST starts in the US.
ODD = dataclasses.replace(
    POLICY,
    hours=WorkingHours(
        days=frozenset({0, 1, 2, 3, 4, 5}),
        opens=7 * 60 + 30,
        closes=19 * 60,
        holidays=frozenset({dt.date(2026, 3, 2), dt.date(2026, 3, 8)}),
    ),
)
ZONES = [
    "America/Chicago",
    "America/New_York",
    "America/Denver",
    "America/Phoenix",
    "Pacific/Honolulu",
    "America/St_Thomas",
    "Europe/Berlin",
]
NOW = st.datetimes(min_value=dt.datetime(2026, 2, 20), max_value=dt.datetime(2026, 11, 10), timezones=st.just(dt.UTC))


@settings(max_examples=300, deadline=None)
@given(
    now=NOW,
    back=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=25)),
    zone=st.sampled_from(ZONES),
    odd=st.booleans(),
)
def test_the_clock_matches_business_time_between(now: dt.datetime, back: dt.timedelta, zone: str, odd: bool) -> None:
    policy = ODD if odd else POLICY
    start = now - back
    clock = BusinessClock(policy, now)
    assert clock.elapsed(zone, start) == business_time_between(start, now, policy.calendar(zone))
    # A second instant of the same day reuses the cached day and still agrees.
    later = min(now, start + dt.timedelta(hours=3))
    assert clock.elapsed(zone, later) == business_time_between(later, now, policy.calendar(zone))
