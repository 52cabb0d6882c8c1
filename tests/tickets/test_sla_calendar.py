"""Business-hours arithmetic: evenings, weekends, holidays and daylight-saving changes, in local wall-clock time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from helpdesk.triage.sla import (
    BusinessCalendar,
    Overdue,
    SlaTarget,
    WorkingHours,
    add_business_time,
    auto_close_at,
    business_time_between,
    due_at,
    overdue_milestones,
)

NEW_YORK = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")
NY = BusinessCalendar.for_zone("America/New_York")  # Mon-Fri 08:00-17:00
H = dt.timedelta(hours=1)


def local(zone: ZoneInfo, text: str) -> dt.datetime:
    """Return a local wall-clock time ('2026-03-06 16:00') as an aware instant."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=zone)


def ny(text: str) -> dt.datetime:
    """Return a New York wall-clock time as a UTC instant."""
    return local(NEW_YORK, text).astimezone(dt.UTC)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        ("2026-11-03 09:00", 4, "2026-11-03 13:00"),  # within one day
        ("2026-11-03 16:00", 2, "2026-11-04 09:00"),  # over the evening
        ("2026-11-03 18:30", 1, "2026-11-04 09:00"),  # filed in the evening: the clock starts next morning
        ("2026-11-04 06:00", 0.5, "2026-11-04 08:30"),  # filed before opening
        ("2026-11-06 15:00", 4, "2026-11-09 10:00"),  # Friday afternoon to Monday
        ("2026-11-07 11:00", 3, "2026-11-09 11:00"),  # filed on Saturday
        ("2026-11-03 08:00", 9, "2026-11-03 17:00"),  # a full day ends at closing time, not next morning
        ("2026-11-03 08:00", 45, "2026-11-09 17:00"),  # a business week
        ("2026-11-03 12:00", 0, "2026-11-03 12:00"),
    ],
)
def test_add_business_time(start: str, hours: float, due: str) -> None:
    assert add_business_time(ny(start), hours, NY) == ny(due)


def test_result_is_utc_and_accepts_any_aware_start() -> None:
    due = add_business_time(local(CHICAGO, "2026-11-03 09:00"), 1, NY)  # 10:00 in New York
    assert due.tzinfo is dt.UTC and due == ny("2026-11-03 11:00")


def test_spring_forward_weekend_keeps_wall_clock_hours() -> None:
    # DST starts on Sunday 2026-03-08: Friday is EST (UTC-5), Monday EDT (UTC-4).
    due = add_business_time(ny("2026-03-06 16:00"), 4, NY)
    assert due.astimezone(NEW_YORK).replace(tzinfo=None) == dt.datetime(2026, 3, 9, 11, 0)
    assert due == dt.datetime(2026, 3, 9, 15, 0, tzinfo=dt.UTC)
    assert business_time_between(ny("2026-03-06 16:00"), due, NY) == 4 * H


def test_fall_back_weekend_keeps_wall_clock_hours() -> None:
    # DST ends on Sunday 2026-11-01: Friday is EDT (UTC-4), Monday EST (UTC-5).
    due = add_business_time(ny("2026-10-30 16:00"), 2, NY)
    assert due == dt.datetime(2026, 11, 2, 14, 0, tzinfo=dt.UTC)  # 09:00 EST
    assert business_time_between(ny("2026-10-30 08:00"), ny("2026-11-02 17:00"), NY) == 18 * H


def test_round_the_clock_desk_counts_real_hours_across_dst() -> None:
    always = BusinessCalendar.for_zone("America/New_York", WorkingHours(frozenset(range(7)), 0, 24 * 60))
    assert business_time_between(ny("2026-03-07 12:00"), ny("2026-03-08 12:00"), always) == 23 * H
    assert business_time_between(ny("2026-10-31 12:00"), ny("2026-11-01 12:00"), always) == 25 * H
    assert add_business_time(ny("2026-03-08 01:30"), 1, always) == ny("2026-03-08 03:30")


def test_window_that_spans_the_dst_change_is_an_hour_shorter() -> None:
    night = BusinessCalendar.for_zone("America/Chicago", WorkingHours(frozenset(range(7)), 60, 4 * 60))
    spring = night.window(dt.date(2026, 3, 8))
    normal = night.window(dt.date(2026, 3, 9))
    assert spring and normal
    assert spring[1] - spring[0] == 2 * H and normal[1] - normal[0] == 3 * H


def test_holidays_are_skipped() -> None:
    holidays = WorkingHours(holidays=frozenset({dt.date(2026, 12, 25), dt.date(2027, 1, 1)}))
    calendar = BusinessCalendar.for_zone("America/New_York", holidays)
    # Thursday 24 December 15:00 + 4 h: 2 h on Thursday, Christmas Friday closed, 2 h on Monday.
    assert add_business_time(ny("2026-12-24 15:00"), 4, calendar) == ny("2026-12-28 10:00")
    assert business_time_between(ny("2026-12-24 08:00"), ny("2026-12-28 17:00"), calendar) == 18 * H
    assert not calendar.is_open(ny("2026-12-25 10:00")) and NY.is_open(ny("2026-12-25 10:00"))


def test_holidays_are_local_dates_of_each_zone() -> None:
    hours = WorkingHours(holidays=frozenset({dt.date(2026, 12, 25)}))
    honolulu = BusinessCalendar.for_zone("Pacific/Honolulu", hours)
    # 08:00 on the 25th in Honolulu is already afternoon in New York: still a holiday in Honolulu.
    start = local(ZoneInfo("Pacific/Honolulu"), "2026-12-24 16:00")
    assert add_business_time(start, 2, honolulu) == local(ZoneInfo("Pacific/Honolulu"), "2026-12-28 09:00")


def test_same_instant_has_different_due_times_per_zone() -> None:
    start = ny("2026-11-03 08:30")  # 07:30 in Chicago, before opening there
    assert add_business_time(start, 1, NY) == ny("2026-11-03 09:30")
    assert add_business_time(start, 1, BusinessCalendar.for_zone("America/Chicago")) == ny("2026-11-03 10:00")


@pytest.mark.parametrize(
    ("a", "b", "hours"),
    [
        ("2026-11-03 09:00", "2026-11-03 11:30", 2.5),
        ("2026-11-03 18:00", "2026-11-04 07:00", 0),  # overnight
        ("2026-11-06 15:00", "2026-11-09 10:00", 4),  # weekend
        ("2026-11-07 09:00", "2026-11-08 17:00", 0),  # Saturday and Sunday
        ("2026-11-03 12:00", "2026-11-03 12:00", 0),
        ("2026-11-09 10:00", "2026-11-06 15:00", -4),  # backwards
    ],
)
def test_business_time_between(a: str, b: str, hours: float) -> None:
    assert business_time_between(ny(a), ny(b), NY) == dt.timedelta(hours=hours)


def test_sla_due_dates_and_overdue_milestones() -> None:
    target = SlaTarget(first_response=4 * H, resolution=16 * H)
    opened = ny("2026-11-06 15:00")  # Friday
    assert due_at(opened, target, "first_response", NY) == ny("2026-11-09 10:00")
    assert due_at(opened, target, "resolution", NY) == ny("2026-11-10 13:00")
    # Late Friday evening: the clock stopped at 2 h.
    assert overdue_milestones(opened, ny("2026-11-06 23:00"), target, NY) == ()
    # Due at Monday 10:00: not late at that very minute, late a minute later.
    assert overdue_milestones(opened, ny("2026-11-09 10:00"), target, NY) == ()
    late = overdue_milestones(opened, ny("2026-11-09 10:01"), target, NY)
    assert late == (Overdue("first_response", 4 * H, 4 * H + dt.timedelta(minutes=1)),)
    responded = ny("2026-11-09 09:00")
    assert overdue_milestones(opened, ny("2026-11-09 12:00"), target, NY, first_response_at=responded) == ()
    both = overdue_milestones(opened, ny("2026-11-11 09:00"), target, NY)
    assert [item.milestone for item in both] == ["first_response", "resolution"]
    assert overdue_milestones(opened, ny("2026-11-11 09:00"), target, NY, resolved_at=ny("2026-11-10 09:00")) == ()


def test_auto_close_counts_calendar_days() -> None:
    resolved = ny("2026-10-30 12:00")
    assert auto_close_at(resolved, dt.timedelta(days=7)) == resolved + dt.timedelta(days=7)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="an aware datetime is required"):
        add_business_time(dt.datetime(2026, 11, 3, 9, 0), 1, NY)
    with pytest.raises(ValueError, match="an aware datetime is required"):
        business_time_between(ny("2026-11-03 09:00"), dt.datetime(2026, 11, 3, 9, 0), NY)
    with pytest.raises(ValueError, match="must not be negative"):
        add_business_time(ny("2026-11-03 09:00"), -1, NY)
    with pytest.raises(ValueError, match="unknown time zone 'Texas'"):
        BusinessCalendar.for_zone("Texas")
    with pytest.raises(ValueError, match="opening time must come before closing time"):
        WorkingHours(opens=17 * 60, closes=8 * 60)
    with pytest.raises(ValueError, match="open days must be a non-empty set"):
        WorkingHours(days=frozenset())
    with pytest.raises(ValueError, match="open days must be a non-empty set"):
        WorkingHours(days=frozenset({7}))


def test_calendar_without_open_days_is_refused_rather_than_looping() -> None:
    mondays = frozenset(dt.date(2026, 1, 5) + dt.timedelta(weeks=n) for n in range(600))
    calendar = BusinessCalendar.for_zone("UTC", WorkingHours(days=frozenset({0}), holidays=mondays))
    with pytest.raises(ValueError, match="no open day in 3660 days"):
        add_business_time(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 1, calendar)
