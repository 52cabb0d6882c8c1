"""Median and 90th-percentile first-response and resolution times, in business hours of each agency's zone."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session

from helpdesk.accounts.models import Agency
from helpdesk.tickets.models import TIERS, Ticket
from helpdesk.tickets.sla import BusinessCalendar, business_time_between


def percentile(values: list[float], share: float) -> float | None:
    """Return the nearest-rank percentile of sorted values (None for none): p50 is the median's lower middle."""
    if not values:
        return None
    rank = max(1, -(-len(values) * share // 1))  # ceil(n * share), at least the first
    return values[int(rank) - 1]


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


Times = dict[str, dict[str, tuple[float | None, float | None]]]


def business_times(session: Session, opened_in: Any, calendar: Callable[[str], BusinessCalendar]) -> Times:
    """Return {tier: {milestone: (median hours, p90 hours)}} of the tickets of `opened_in` that reached it."""
    rows = session.execute(opened_in.with_only_columns(
        Ticket.tier, Agency.time_zone, Ticket.created_at, func.coalesce(Ticket.first_responded_at, Ticket.resolved_at),
        Ticket.resolved_at).join(Agency, Agency.id == Ticket.agency_id).where(
        func.coalesce(Ticket.first_responded_at, Ticket.resolved_at).is_not(None)))
    hours: dict[tuple[str, str], list[float]] = defaultdict(list)
    calendars: dict[str, BusinessCalendar] = {}
    for tier, zone, created, responded, resolved in rows:
        cal = calendars.get(zone) or calendars.setdefault(zone, calendar(zone))
        start = _aware(created)
        hours[(tier, "first_response")].append(business_time_between(start, _aware(responded), cal).total_seconds()
                                               / 3600)
        if resolved is not None:
            hours[(tier, "resolution")].append(business_time_between(start, _aware(resolved), cal).total_seconds()
                                               / 3600)
    result: Times = {}
    for tier in TIERS:
        result[tier] = {}
        for milestone in ("first_response", "resolution"):
            values = sorted(hours.get((tier, milestone), []))
            median, p90 = percentile(values, 0.5), percentile(values, 0.9)
            result[tier][milestone] = (None if median is None else round(median, 2),
                                       None if p90 is None else round(p90, 2))
    return result
