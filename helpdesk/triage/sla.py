"""Business-hours arithmetic for SLA targets, in the wall-clock time of an agency's time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 24 * 60
ZERO = dt.timedelta(0)
_DAY = dt.timedelta(days=1)
#: A calendar with no open day in this many days in a row (every day a holiday) is refused.
_MAX_CLOSED_DAYS = 3660

Milestone = Literal["first_response", "resolution"]


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """Open days (0 = Monday), opening and closing minute of the day, and holidays, in local wall-clock time."""

    days: frozenset[int] = frozenset(range(5))
    opens: int = 8 * 60
    closes: int = 17 * 60
    holidays: frozenset[dt.date] = frozenset()

    def __post_init__(self) -> None:
        if not self.days or not self.days <= frozenset(range(7)):
            raise ValueError("open days must be a non-empty set of weekdays, 0 (Monday) to 6 (Sunday)")
        if not 0 <= self.opens < self.closes <= MINUTES_PER_DAY:
            raise ValueError("opening time must come before closing time, both between 00:00 and 24:00")


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Working hours in one IANA time zone; holidays are local dates of that zone."""

    zone: ZoneInfo
    hours: WorkingHours = WorkingHours()

    @classmethod
    def for_zone(cls, time_zone: str, hours: WorkingHours | None = None) -> BusinessCalendar:
        """Build a calendar from a time zone name such as 'America/Chicago'."""
        try:
            zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"unknown time zone {time_zone!r}") from None
        return cls(zone, hours or WorkingHours())

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """Return the open hours of a local date as UTC instants, or None when closed all day."""
        if day.weekday() not in self.hours.days or day in self.hours.holidays:
            return None
        midnight = dt.datetime.combine(day, dt.time())
        # Wall-clock times, so 08:00 stays 08:00 across a DST change; a window that spans the change
        # (e.g. 00:00-24:00) is one hour shorter or longer in real time, as it should be.
        opens = (midnight + dt.timedelta(minutes=self.hours.opens)).replace(tzinfo=self.zone)
        closes = (midnight + dt.timedelta(minutes=self.hours.closes)).replace(tzinfo=self.zone)
        return opens.astimezone(dt.UTC), closes.astimezone(dt.UTC)

    def windows(self, first: dt.date, last: dt.date | None = None) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Yield the open windows from local date `first` (to `last`, or without end), in order."""
        day, closed_run = first, 0
        while last is None or day <= last:
            window = self.window(day)
            if window is None:
                closed_run += 1
                if closed_run > _MAX_CLOSED_DAYS:
                    raise ValueError(f"the calendar has no open day in {_MAX_CLOSED_DAYS} days from {first}")
            else:
                closed_run = 0
                yield window
            day += _DAY

    def local_date(self, instant: dt.datetime) -> dt.date:
        """Return the local date of an aware instant."""
        return _utc(instant).astimezone(self.zone).date()

    def is_open(self, instant: dt.datetime) -> bool:
        """Tell whether an instant falls within open hours."""
        window = self.window(self.local_date(instant))
        return window is not None and window[0] <= _utc(instant) < window[1]


@dataclass(frozen=True, slots=True)
class SlaTarget:
    """Business time allowed for the first response and for the resolution of a ticket at one tier."""

    first_response: dt.timedelta
    resolution: dt.timedelta

    def allowed(self, milestone: Milestone) -> dt.timedelta:
        """Return the business time allowed for a milestone."""
        return self.first_response if milestone == "first_response" else self.resolution


@dataclass(frozen=True, slots=True)
class Overdue:
    """A milestone whose business time has run out: which one, what was allowed and what has elapsed."""

    milestone: Milestone
    allowed: dt.timedelta
    elapsed: dt.timedelta


def add_business_time(start_utc: dt.datetime, hours: float | dt.timedelta, calendar: BusinessCalendar) -> dt.datetime:
    """Return the UTC instant at which `hours` of business time have passed since `start_utc`."""
    remaining = hours if isinstance(hours, dt.timedelta) else dt.timedelta(hours=hours)
    if remaining < ZERO:
        raise ValueError(f"business time to add must not be negative, got {remaining}")
    start = cursor = _utc(start_utc)
    if not remaining:
        return start
    # From the day before: a window never crosses local midnight, but the UTC day may differ.
    for opens, closes in calendar.windows(calendar.local_date(start) - _DAY):
        begin = max(opens, cursor)
        if begin >= closes:
            continue
        if remaining <= closes - begin:
            return begin + remaining
        remaining -= closes - begin
        cursor = closes
    raise AssertionError("unreachable: windows() is endless")  # pragma: no cover


def business_time_between(a: dt.datetime, b: dt.datetime, calendar: BusinessCalendar) -> dt.timedelta:
    """Return the business time from `a` to `b` (negative when `b` comes first)."""
    start, end = _utc(a), _utc(b)
    if end < start:
        return -business_time_between(b, a, calendar)
    total, cursor = ZERO, start
    for opens, closes in calendar.windows(calendar.local_date(start) - _DAY, calendar.local_date(end)):
        begin, finish = max(opens, cursor), min(closes, end)
        if finish > begin:
            total += finish - begin
            cursor = finish
    return total


def due_at(opened_utc: dt.datetime, target: SlaTarget, milestone: Milestone, calendar: BusinessCalendar) -> dt.datetime:
    """Return when a milestone of a ticket opened at `opened_utc` falls due."""
    return add_business_time(opened_utc, target.allowed(milestone), calendar)


def overdue_milestones(
    opened_utc: dt.datetime,
    now_utc: dt.datetime,
    target: SlaTarget,
    calendar: BusinessCalendar,
    *,
    first_response_at: dt.datetime | None = None,
    resolved_at: dt.datetime | None = None,
) -> tuple[Overdue, ...]:
    """Return the pending milestones whose allowed business time has run out by `now_utc`, first response first."""
    elapsed = business_time_between(opened_utc, now_utc, calendar)
    pending: list[Milestone] = []
    if first_response_at is None and resolved_at is None:
        pending.append("first_response")
    if resolved_at is None:
        pending.append("resolution")
    # Strictly more than allowed: a ticket is not late at the very minute it falls due.
    return tuple(Overdue(m, target.allowed(m), elapsed) for m in pending if elapsed > target.allowed(m))


def auto_close_at(resolved_utc: dt.datetime, after: dt.timedelta) -> dt.datetime:
    """Return when a resolved ticket closes by itself (calendar time, not business time)."""
    return _utc(resolved_utc) + after


def _utc(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"an aware datetime is required (UTC or with a time zone), got naive {instant.isoformat()}")
    return instant.astimezone(dt.UTC)
