"""The desk's dashboard: requests opened and resolved, backlog, SLA attainment, escalation, deflection, incidents."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVarTuple

from sqlalchemy import Date, Select, and_, case, cast, exists, func, select
from sqlalchemy.orm import Session

from helpdesk.insights.desk_reading import most_read, top_searches
from helpdesk.insights.desk_times import business_times
from helpdesk.insights.scope import Period, Scope, scope_people
from helpdesk.tickets.models import OPEN_STATUSES, TIERS, Deflection, Incident, Ticket, TicketEvent
from helpdesk.tickets.queries import status_in
from helpdesk.triage.sla import BusinessCalendar
from helpdesk.vocabulary import Tier

_Ts = TypeVarTuple("_Ts")  # the column types of a query a helper narrows and hands back

#: Open requests by age: label and lower bound in days.
AGE_BUCKETS = (("under 1 day", 0), ("1-3 days", 1), ("3-7 days", 3), ("7-30 days", 7), ("over 30 days", 30))
MILESTONES = ("first_response", "resolution")


@dataclass(slots=True)
class DeskReport:
    """Every figure of the desk's dashboard for one scope and period."""

    period: Period
    scope: Scope
    opened: int
    resolved: int
    deflections: int
    sla: dict[str, dict[str, dict[str, int]]]
    per_day: list[tuple[dt.date, int, int]]  # (day, opened, resolved)
    by_category: list[tuple[str, int, int, int]]  # (category, opened, deflections, deflection % x10)
    by_tier: list[tuple[str, int]]
    by_state: list[tuple[str, int]]
    backlog: list[tuple[str, int]]
    times: dict[str, dict[str, tuple[float | None, float | None]]]  # tier -> milestone -> (median h, p90 h)
    escalated: dict[str, int]
    reopened: int
    incidents: list[tuple[int, str, str, int]]  # (id, scope, category, reports)
    most_read: list[tuple[str, int, int, int]] = field(default_factory=list)  # (slug, opens, helpful, votes)
    top_searches: list[tuple[str, int, int]] = field(default_factory=list)  # (query, searches, people)

    @property
    def deflection_rate(self) -> float:
        """Return deflections / (deflections + requests), 0 when there were neither."""
        total = self.deflections + self.opened
        return round(self.deflections / total, 4) if total else 0.0

    def per_week(self) -> list[tuple[dt.date, int, int]]:
        """Return the per-day figures summed by week (weeks start on Monday)."""
        weeks: dict[dt.date, list[int]] = {}
        for day, opened, resolved in self.per_day:
            week = weeks.setdefault(day - dt.timedelta(days=day.weekday()), [0, 0])
            week[0] += opened
            week[1] += resolved
        return [(week, o, r) for week, (o, r) in sorted(weeks.items())]

    def to_api(self) -> dict[str, object]:
        """Return the report as `GET /api/v1/reports/desk` answers it."""
        return {
            "from": self.period.first.isoformat(),
            "to": self.period.last.isoformat(),
            "state": self.scope.state,
            "opened": self.opened,
            "resolved": self.resolved,
            "deflections": self.deflections,
            "deflection_rate": self.deflection_rate,
            "sla": self.sla,
        }


def _scoped(query: Select[*_Ts], scope: Scope) -> Select[*_Ts]:
    if scope.agency_id:
        return query.where(Ticket.agency_id == scope.agency_id)
    return query.where(Ticket.state_code == scope.state) if scope.state else query


def _day(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _sla_columns(now: dt.datetime) -> list[Any]:
    """Per milestone: how many fell due (or were reached), and how many of those were reached in time."""
    reached = func.coalesce(Ticket.first_responded_at, Ticket.resolved_at)
    one = {
        "first_response": (Ticket.first_response_due, reached),
        "resolution": (Ticket.resolution_due, Ticket.resolved_at),
    }
    columns = []
    for due_col, done_col in one.values():
        counted = and_(due_col.is_not(None), (done_col.is_not(None)) | (due_col <= now))
        columns += [
            func.sum(case((counted, 1), else_=0)),
            func.sum(case((and_(counted, done_col.is_not(None), done_col <= due_col), 1), else_=0)),
        ]
    return columns


def _sla_fold(rows: Any) -> dict[str, dict[str, dict[str, int]]]:
    """Add up (tier, *SLA sums) rows into {tier: {milestone: {"met", "due"}}}."""
    found: dict[str, dict[str, dict[str, int]]] = {
        tier: {m: {"met": 0, "due": 0} for m in MILESTONES} for tier in TIERS
    }
    for tier, *sums in rows:
        if tier in found:
            for index, milestone in enumerate(MILESTONES):
                found[tier][milestone]["met"] += int(sums[2 * index + 1] or 0)
                found[tier][milestone]["due"] += int(sums[2 * index] or 0)
    return found


def _sla(session: Session, opened_in: Any, now: dt.datetime) -> dict[str, dict[str, dict[str, int]]]:
    """Per tier: of the milestones that have fallen due (or were reached), how many were reached in time."""
    return _sla_fold(
        session.execute(opened_in.with_only_columns(Ticket.tier, *_sla_columns(now)).group_by(Ticket.tier))
    )


def _breakdown(
    session: Session, opened_in: Any, now: dt.datetime
) -> tuple[dict[str, int], dict[str, int], dict[str | None, int], Any]:
    """Return opened requests by category, tier and state, and SLA attainment, from one pass over the rows."""
    by_category: dict[str, int] = defaultdict(int)
    by_tier: dict[str, int] = defaultdict(int)
    by_state: dict[str | None, int] = defaultdict(int)
    sla_rows = []
    # One grouped read instead of four: each would fetch the period's ticket rows again.
    for category, tier, state, n, *sums in session.execute(
        opened_in.with_only_columns(
            Ticket.category, Ticket.tier, Ticket.state_code, func.count(), *_sla_columns(now)
        ).group_by(Ticket.tier, Ticket.category, Ticket.state_code)
    ):  # no index in this order: the covering one
        by_category[category] += int(n)
        by_tier[tier] += int(n)
        by_state[state] += int(n)
        sla_rows.append((tier, *sums))
    return dict(by_category), dict(by_tier), dict(by_state), _sla_fold(sla_rows)


def desk_report(
    session: Session,
    scope: Scope,
    period: Period,
    *,
    now: dt.datetime,
    calendar: Callable[[str], BusinessCalendar],
    full: bool = True,
) -> DeskReport:
    """Compute the desk's dashboard; `calendar(time_zone)` gives the business hours of an agency's zone.

    Without `full`, only the API's figures (opened, resolved, deflections, SLA attainment) are computed."""
    opened_in = _scoped(
        select(Ticket.id).where(Ticket.created_at >= period.start, Ticket.created_at < period.end), scope
    )
    resolved_in = _scoped(
        select(Ticket.id).where(Ticket.resolved_at >= period.start, Ticket.resolved_at < period.end), scope
    )

    def count(query: Any) -> int:
        return int(session.scalar(query.with_only_columns(func.count())) or 0)

    def grouped(query: Any, column: Any) -> dict[Any, int]:
        return {
            key: int(n) for key, n in session.execute(query.with_only_columns(column, func.count()).group_by(column))
        }

    deflected = select(Deflection.category, func.count()).where(
        Deflection.created_at >= period.start, Deflection.created_at < period.end
    )
    if not scope.everyone:
        from helpdesk.accounts.models import User  # the deflection's person decides its state

        deflected = deflected.join(User, User.id == Deflection.user_id).where(
            User.agency_id == scope.agency_id if scope.agency_id else User.state_code == scope.state
        )
    deflections = {c: int(n) for c, n in session.execute(deflected.group_by(Deflection.category))}
    if not full:
        return DeskReport(
            period=period,
            scope=scope,
            opened=count(opened_in),
            resolved=count(resolved_in),
            deflections=sum(deflections.values()),
            sla=_sla(session, opened_in, now),
            per_day=[],
            by_category=[],
            by_tier=[],
            by_state=[],
            backlog=[],
            times={},
            escalated={},
            reopened=0,
            incidents=[],
        )
    opened_by_day = grouped(opened_in, _day(session, Ticket.created_at))
    resolved_by_day = grouped(resolved_in, _day(session, Ticket.resolved_at))
    opened_days = {_as_date(k): v for k, v in opened_by_day.items()}
    resolved_days = {_as_date(k): v for k, v in resolved_by_day.items()}
    by_category, by_tier, by_state, sla = _breakdown(session, opened_in, now)
    categories = sorted(set(by_category) | set(deflections))
    category_rows = []
    for category in categories:
        o, d = by_category.get(category, 0), deflections.get(category, 0)
        category_rows.append((category, o, d, round(1000 * d / (o + d)) if o + d else 0))
    ages = [func.sum(case((Ticket.created_at <= now - dt.timedelta(days=low), 1), else_=0)) for _l, low in AGE_BUCKETS]
    # The open statuses written out: the partial index of open requests by state and age serves it, not the table.
    open_now = session.execute(_scoped(select(*ages).where(status_in(OPEN_STATUSES)), scope)).one()
    cumulative = [int(n or 0) for n in open_now] + [0]
    backlog = [(label, cumulative[i] - cumulative[i + 1]) for i, (label, _low) in enumerate(AGE_BUCKETS)]
    escalation = exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.kind == "escalated")
    escalated = grouped(opened_in.where(escalation), Ticket.tier)
    reopened = count(
        resolved_in.where(exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.kind == "reopened"))
    )
    incidents = session.execute(
        select(Incident.id, Incident.scope, Incident.category, Incident.report_count)
        .where(
            Incident.created_at >= period.start,
            Incident.created_at < period.end,
            exists(_scoped(select(Ticket.id).where(Ticket.incident_id == Incident.id), scope)),
        )
        .order_by(Incident.report_count.desc(), Incident.id)
        .limit(20)
    ).all()
    opened_total = sum(opened_days.values())
    people = scope_people(session, scope)
    return DeskReport(
        period=period,
        scope=scope,
        opened=opened_total,
        resolved=sum(resolved_days.values()),
        deflections=sum(deflections.values()),
        sla=sla,
        per_day=[(d, opened_days.get(d, 0), resolved_days.get(d, 0)) for d in period.days()],
        by_category=category_rows,
        by_tier=sorted(by_tier.items()),
        by_state=sorted((s or "national", n) for s, n in by_state.items()),
        backlog=backlog,
        times=business_times(session, opened_in, calendar),
        escalated={
            "any": sum(escalated.values()),
            "to_compact_office": escalated.get(Tier.COMPACT_OFFICE, 0),
            "to_national": escalated.get(Tier.NATIONAL, 0),
        },
        reopened=reopened,
        incidents=[(i, s, c, n) for i, s, c, n in incidents],
        most_read=most_read(session, period, people),
        top_searches=top_searches(session, period, people),
    )
