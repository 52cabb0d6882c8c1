"""The overdue sweep's arithmetic: business time elapsed by whole days, and the pass's routing decisions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from helpdesk.triage.policy import TriagePolicy
from helpdesk.triage.routing import MAX_REASON, RoutingDecision
from helpdesk.triage.sla import ZERO, BusinessCalendar, business_time_between

#: Seconds in a quarter hour.
_QUARTER = 900


class _Day(NamedTuple):
    """A local day of one zone: its bounds (POSIX seconds), the business time from its midnight to now, its window."""

    starts: float
    ends: float
    from_midnight: dt.timedelta
    window: tuple[dt.datetime, dt.datetime] | None


class BusinessClock:
    """Business time from any instant to a fixed `now`, per time zone, as sla.business_time_between computes it.

    Open windows never cross local midnight, so the time from an instant is the time from its local midnight
    (computed once per day and zone) minus the part of that day's window before the instant. Which local day an
    instant falls in is looked up by its quarter hour (UTC): zone offsets and their changes are whole quarters.
    """

    def __init__(self, policy: TriagePolicy, now: dt.datetime) -> None:
        self._policy, self._now = policy, now
        self._calendars: dict[str, BusinessCalendar] = {}
        self._days: dict[tuple[str, dt.date], _Day] = {}
        self._quarters: dict[tuple[str, float], _Day] = {}

    def calendar(self, time_zone: str) -> BusinessCalendar:
        """Return the policy's calendar in a zone (cached)."""
        if time_zone not in self._calendars:
            self._calendars[time_zone] = self._policy.calendar(time_zone)
        return self._calendars[time_zone]

    def elapsed(self, time_zone: str, start: dt.datetime) -> dt.timedelta:
        """Return the business time from `start` (not after now) to now."""
        quarter = (time_zone, start.timestamp() // _QUARTER)
        day = self._quarters.get(quarter)
        if day is None:
            day = self._day(time_zone, start)
            # Kept for the quarter only when the whole quarter lies in that day (an offset of odd seconds would not).
            if day.starts <= quarter[1] * _QUARTER and (quarter[1] + 1) * _QUARTER <= day.ends:
                self._quarters[quarter] = day
        window = day.window
        before = ZERO if window is None else min(max(start - window[0], ZERO), window[1] - window[0])
        return day.from_midnight - before

    def _day(self, time_zone: str, start: dt.datetime) -> _Day:
        """Return `start`'s local day (computed once per zone and date)."""
        calendar = self.calendar(time_zone)
        date = calendar.local_date(start)
        day = self._days.get((time_zone, date))
        if day is None:
            midnight = dt.datetime.combine(date, dt.time(), tzinfo=calendar.zone)
            following = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), tzinfo=calendar.zone)
            day = self._days[(time_zone, date)] = _Day(
                midnight.timestamp(),
                following.timestamp(),
                business_time_between(midnight, self._now, calendar),
                calendar.window(date),
            )
        return day


@dataclass(frozen=True, slots=True)
class Decided:
    """A pass's escalation decision for one (agency, category, cause), and its reason split around its words."""

    decision: RoutingDecision | None
    #: The words "N business hours" the decision's reason holds.
    words: str
    #: The reason is head + words + tail; tail is None where swapping the words would not be exact.
    head: str
    tail: str | None
    #: The longest words that keep the reason within MAX_REASON.
    room: int

    @classmethod
    def of(cls, decision: RoutingDecision | None, words: str) -> Decided:
        """Split a decision's reason around the words "(N business hours elapsed)" when they stand there once."""
        reason = "" if decision is None else decision.reason
        said = f"({words} elapsed)"
        # Only where the words stand once in an untruncated reason is the swap exact; else ask the policy.
        if reason.count(said) != 1 or len(reason) >= MAX_REASON:
            return cls(decision, words, reason, None, 0)
        head, tail = reason.split(said)
        head, tail = head + "(", " elapsed)" + tail
        return cls(decision, words, head, tail, MAX_REASON - len(head) - len(tail))


#: The decisions of one pass by (agency, category, cause), shared by its batches.
Decisions = dict[tuple[object, ...], Decided]
