"""Median and 90th-percentile first-response and resolution times, in business hours of each agency's zone."""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import func
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


def wall_clock_hours(calendar: BusinessCalendar) -> Callable[[dt.datetime, dt.datetime], float] | None:
    """Return an O(1) business-hours difference for `calendar`, equal to `business_time_between`, or None.

    Open hours of 04:00-23:00 never contain a daylight-saving change (at 01:00-03:00 local), so business time is
    wall-clock time there: a cumulative count from a fixed Monday, minus the holidays, gives it without walking
    the days. Other calendars return None (the caller then uses `business_time_between`)."""
    hours = calendar.hours
    if hours.opens < 4 * 60 or hours.closes > 23 * 60:
        return None
    opens, length = hours.opens * 60, (hours.closes - hours.opens) * 60
    days = sorted(hours.days)
    holidays = sorted(d.toordinal() for d in hours.holidays if d.weekday() in hours.days)

    def cumulative(instant: dt.datetime) -> float:
        local = instant.astimezone(calendar.zone)
        ordinal = local.date().toordinal()
        weeks, rest = divmod(ordinal - _EPOCH, 7)
        whole = weeks * len(days) + bisect.bisect_left(days, rest) - bisect.bisect_left(holidays, ordinal)
        seconds = whole * length
        if rest in hours.days and (not holidays or holidays[min(len(holidays) - 1, bisect.bisect_left(
                holidays, ordinal))] != ordinal):
            into = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6 - opens
            seconds += min(max(into, 0), length)
        return seconds

    return lambda a, b: (cumulative(b) - cumulative(a)) / 3600


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


Times = dict[str, dict[str, tuple[float | None, float | None]]]


def _measure(calendar: BusinessCalendar) -> Callable[[dt.datetime, dt.datetime], float]:
    fast = wall_clock_hours(calendar)
    if fast is not None:
        return fast
    return lambda a, b: business_time_between(a, b, calendar).total_seconds() / 3600


def business_times(session: Session, opened_in: Any, calendar: Callable[[str], BusinessCalendar]) -> Times:
    """Return {tier: {milestone: (median hours, p90 hours)}} of the tickets of `opened_in` that reached it."""
    rows = session.execute(opened_in.with_only_columns(
        Ticket.tier, Agency.time_zone, Ticket.created_at, func.coalesce(Ticket.first_responded_at, Ticket.resolved_at),
        Ticket.resolved_at).join(Agency, Agency.id == Ticket.agency_id).where(
        func.coalesce(Ticket.first_responded_at, Ticket.resolved_at).is_not(None)))
    hours: dict[tuple[str, str], list[float]] = defaultdict(list)
    between: dict[str, Callable[[dt.datetime, dt.datetime], float]] = {}
    for tier, zone, created, responded, resolved in rows:
        measure = between.get(zone) or between.setdefault(zone, _measure(calendar(zone)))
        start = _aware(created)
        hours[(tier, "first_response")].append(measure(start, _aware(responded)))
        if resolved is not None:
            hours[(tier, "resolution")].append(measure(start, _aware(resolved)))
    result: Times = {}
    for tier in TIERS:
        result[tier] = {}
        for milestone in ("first_response", "resolution"):
            values = sorted(hours.get((tier, milestone), []))
            median, p90 = percentile(values, 0.5), percentile(values, 0.9)
            result[tier][milestone] = (None if median is None else round(median, 2),
                                       None if p90 is None else round(p90, 2))
    return result
