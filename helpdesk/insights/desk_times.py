"""Median and 90th-percentile first-response and resolution times, in business hours of each agency's zone."""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import BigInteger, Integer, cast, func
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Agency
from helpdesk.tickets.models import TIERS, Ticket
from helpdesk.triage.sla import BusinessCalendar, business_time_between


def percentile(values: list[float], share: float) -> float | None:
    """Return the nearest-rank percentile of sorted values (None for none): p50 is the median's lower middle."""
    if not values:
        return None
    rank = max(1, -(-len(values) * share // 1))  # ceil(n * share), at least the first
    return values[int(rank) - 1]


_EPOCH = dt.date(2001, 1, 1).toordinal()  # a Monday: day k after it is weekday k % 7
_UNIX = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_UNIX_ORDINAL = _UNIX.date().toordinal()
_DAY_US, _HOUR_US = 86_400_000_000, 3_600_000_000


def micros(instant: dt.datetime) -> int:
    """Return an aware instant as whole microseconds since 1970 (UTC)."""
    return (instant - _UNIX) // dt.timedelta(microseconds=1)


def business_clock(calendar: BusinessCalendar) -> Callable[[int], int] | None:
    """Return the business microseconds from a fixed Monday to an instant (microseconds since 1970), or None.

    Open hours of 04:00-23:00 never contain a daylight-saving change (at 01:00-03:00 local), so business time is
    wall-clock time there: a cumulative count from a fixed Monday, minus the holidays, gives it without walking
    the days. Other calendars return None (the caller then uses `business_time_between`). Integers throughout:
    the zone's offset is looked up once per UTC hour (offsets change on the hour), the days before a local day
    once per day, not per instant."""
    hours = calendar.hours
    if hours.opens < 4 * 60 or hours.closes > 23 * 60:
        return None
    opens, length = hours.opens * 60_000_000, (hours.closes - hours.opens) * 60_000_000
    days = sorted(hours.days)
    holidays = sorted(d.toordinal() for d in hours.holidays if d.weekday() in hours.days)
    holiday_set, open_days = set(holidays), frozenset(hours.days)
    offsets: dict[int, int] = {}
    # Per local day: the business time of the days before it, and whether it is open itself.
    before: dict[int, tuple[int, bool]] = {}

    def day_start(local_day: int) -> tuple[int, bool]:
        ordinal = local_day + _UNIX_ORDINAL
        weeks, rest = divmod(ordinal - _EPOCH, 7)
        whole = weeks * len(days) + bisect.bisect_left(days, rest) - bisect.bisect_left(holidays, ordinal)
        found = before[local_day] = (whole * length, rest in open_days and ordinal not in holiday_set)
        return found

    def cumulative(instant: int) -> int:
        hour = instant // _HOUR_US
        offset = offsets.get(hour)
        if offset is None:
            moment = _UNIX + dt.timedelta(hours=hour)
            local = moment.astimezone(calendar.zone).replace(tzinfo=dt.UTC)
            offset = offsets[hour] = micros(local) - micros(moment)
        local_day, into = divmod(instant + offset, _DAY_US)
        spent, is_open = before.get(local_day) or day_start(local_day)
        return spent + min(max(into - opens, 0), length) if is_open else spent

    return cumulative


def wall_clock_micros(calendar: BusinessCalendar) -> Callable[[int, int], float] | None:
    """Return an O(1) business-hours difference of two instants in microseconds since 1970, or None.

    The difference of `business_clock` at both instants; None where that does not apply."""
    clock = business_clock(calendar)
    return None if clock is None else (lambda a, b: (clock(b) - clock(a)) / _HOUR_US)


def wall_clock_hours(calendar: BusinessCalendar) -> Callable[[dt.datetime, dt.datetime], float] | None:
    """Return `wall_clock_micros` for aware datetimes (None where it does not apply)."""
    fast = wall_clock_micros(calendar)
    return None if fast is None else (lambda a, b: fast(micros(a), micros(b)))


Times = dict[str, dict[str, tuple[float | None, float | None]]]


def _measure(calendar: BusinessCalendar) -> Callable[[int, int], float]:
    fast = wall_clock_micros(calendar)
    if fast is not None:
        return fast
    return lambda a, b: (
        business_time_between(
            _UNIX + dt.timedelta(microseconds=a), _UNIX + dt.timedelta(microseconds=b), calendar
        ).total_seconds()
        / 3600
    )


def _micros_sql(session: Session, column: Any) -> Any:
    """Return SQL for a timestamp column as whole microseconds since 1970: no datetime objects for 10,000s of rows."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", column) * 1_000_000, BigInteger)
    # SQLite holds 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC: whole seconds, plus the digits after the point.
    return cast(func.strftime("%s", column), Integer) * 1_000_000 + cast(func.substr(column, 21, 6), Integer)


def _hours(
    session: Session, opened_in: Any, calendar: Callable[[str], BusinessCalendar]
) -> dict[tuple[str, str], list[float]]:
    """Return the business hours to each milestone reached, by (tier, milestone)."""
    responded_at = func.coalesce(Ticket.first_responded_at, Ticket.resolved_at)
    rows = session.execute(
        opened_in.with_only_columns(
            Ticket.tier,
            Agency.time_zone,
            _micros_sql(session, Ticket.created_at),
            _micros_sql(session, responded_at),
            _micros_sql(session, Ticket.resolved_at),
        )
        .join(Agency, Agency.id == Ticket.agency_id)
        .where(func.coalesce(Ticket.first_responded_at, Ticket.resolved_at).is_not(None))
    )
    hours: dict[tuple[str, str], list[float]] = defaultdict(list)
    clocks: dict[str, Callable[[int], int] | None] = {}
    between: dict[str, Callable[[int, int], float]] = {}
    for tier, zone, created, responded, resolved in rows:
        clock = clocks[zone] if zone in clocks else clocks.setdefault(zone, business_clock(calendar(zone)))
        if clock is not None:
            # The opening's clock is read once for both milestones, and once for both when they are one instant
            # (a request resolved without a first response): same integers, same hours as `wall_clock_micros`.
            start, responded_clock = clock(created), clock(responded)
            hours[(tier, "first_response")].append((responded_clock - start) / _HOUR_US)
            if resolved is not None:
                done = responded_clock if resolved == responded else clock(resolved)
                hours[(tier, "resolution")].append((done - start) / _HOUR_US)
            continue
        measure = between.get(zone) or between.setdefault(zone, _measure(calendar(zone)))
        hours[(tier, "first_response")].append(measure(created, responded))
        if resolved is not None:
            hours[(tier, "resolution")].append(measure(created, resolved))
    return hours


def business_times(session: Session, opened_in: Any, calendar: Callable[[str], BusinessCalendar]) -> Times:
    """Return {tier: {milestone: (median hours, p90 hours)}} of the tickets of `opened_in` that reached it."""
    hours = _hours(session, opened_in, calendar)
    result: Times = {}
    for tier in TIERS:
        result[tier] = {}
        for milestone in ("first_response", "resolution"):
            values = sorted(hours.get((tier, milestone), []))
            median, p90 = percentile(values, 0.5), percentile(values, 0.9)
            result[tier][milestone] = (
                None if median is None else round(median, 2),
                None if p90 is None else round(p90, 2),
            )
    return result
