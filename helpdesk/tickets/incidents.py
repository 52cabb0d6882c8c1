"""Incidents: reports of one problem grouped per location (agency) or system-wide, and the counts that form them."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session

from helpdesk.audit.services import Origin
from helpdesk.tickets.history import record_change
from helpdesk.tickets.models import OPEN_STATUSES, Incident, Ticket
from helpdesk.triage.policy import TriagePolicy
from helpdesk.triage.routing import (
    LOCATION_NOTICE,
    SYSTEM_NOTICE,
    AgencyInfo,
    ReportOrigin,
    RoutingDecision,
    route_report,
)

Scope = Literal["location", "system"]
#: Advisory-lock namespace of submissions (PostgreSQL): reports of one category are counted one at a time.
_LOCK_NAMESPACE = 7_301


def lock_category(session: Session, category: str) -> None:
    """Serialise the counting of reports of one category until the transaction ends.

    SQLite already runs one writer at a time (BEGIN IMMEDIATE); on PostgreSQL two reports arriving together
    would otherwise both see "no open incident" and open two, notifying the queue twice.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(category.encode()) & 0x7FFFFFFF
        session.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :key)"), {"namespace": _LOCK_NAMESPACE, "key": key}
        )


def recent_reports(
    session: Session,
    policy: TriagePolicy,
    *,
    agency_id: int,
    category: str,
    now: dt.datetime,
    besides: int | None = None,
) -> tuple[int, tuple[ReportOrigin, ...]]:
    """Return the earlier reports that routing counts: same agency and category in the location window, and the
    distinct (agency, state) origins of the category in the system window (only for incident categories).

    `besides`: the id of the report being routed, when its row is already written (it is not an earlier one).
    """
    if not policy.groups_incidents(category):
        return 0, ()
    # One query for both windows: it runs while the category is locked, where every round trip delays the next report.
    in_location = (Ticket.agency_id == agency_id) & (Ticket.created_at >= now - policy.location.window)
    in_system = Ticket.created_at >= now - policy.system.window
    query = select(
        Ticket.agency_id,
        Ticket.state_code,
        func.sum(case((in_location, 1), else_=0)),
        func.sum(case((in_system, 1), else_=0)),
    ).where(Ticket.category == category, in_location | in_system)
    if besides is not None:
        query = query.where(Ticket.id != besides)
    rows = session.execute(query.group_by(Ticket.agency_id, Ticket.state_code)).all()
    same_agency = sum(int(located or 0) for _agency, _state, located, _system in rows)
    return same_agency, tuple((agency, state) for agency, state, _located, system in rows if system)


def route_in_turn(
    session: Session, policy: TriagePolicy, ticket: Ticket, info: AgencyInfo, now: dt.datetime
) -> tuple[RoutingDecision, Incident | None]:
    """Take the report's turn in its category, count the earlier reports and route by them; return the decision and
    the incident the report joins or opens (and sets on the ticket).

    The ticket's row is written before (its id is left out of the counts): the turn, held until the commit, then
    covers only these two reads and the rows that depend on the decision.
    """
    lock_category(session, ticket.category)
    same, origins = recent_reports(
        session, policy, agency_id=ticket.agency_id, category=ticket.category, now=now, besides=ticket.id
    )
    location, system = open_incidents(session, ticket.category, ticket.agency_id)
    decision = route_report(
        policy,
        category=ticket.category,
        agency=info,
        recent_same_agency=same,
        recent_origins=origins,
        open_location_incident=location is not None,
        open_system_incident=system is not None,
    )
    incident = None
    if decision.incident:
        incident = (system if decision.incident == "system" else location) or start_incident(
            session, decision, ticket, now
        )
        ticket.incident_id = incident.id
    return decision, incident


def open_incident(session: Session, scope: Scope, category: str, agency_id: int | None = None) -> Incident | None:
    """Return the open incident of this scope and category (and agency, for a location incident)."""
    query = select(Incident).where(Incident.scope == scope, Incident.category == category, Incident.closed_at.is_(None))
    if scope == "location":
        query = query.where(Incident.agency_id == agency_id)
    return session.scalars(query.order_by(Incident.id.desc()).limit(1)).first()


def open_incidents(session: Session, category: str, agency_id: int) -> tuple[Incident | None, Incident | None]:
    """Return the open location incident of this agency and the open system incident of the category, in one query."""
    found = session.scalars(
        select(Incident)
        .where(
            Incident.category == category,
            Incident.closed_at.is_(None),
            (Incident.scope == "system") | ((Incident.scope == "location") & (Incident.agency_id == agency_id)),
        )
        .order_by(Incident.id.desc())
    ).all()
    location = next((incident for incident in found if incident.scope == "location"), None)
    return location, next((incident for incident in found if incident.scope == "system"), None)


def start_incident(session: Session, decision: RoutingDecision, ticket: Ticket, now: dt.datetime) -> Incident:
    """Open an incident for the decision's scope; its queue is notified now, once."""
    scope = decision.incident or "location"
    incident = Incident(
        scope=scope,
        category=ticket.category,
        created_at=now,
        last_report_at=now,
        report_count=0,
        agency_id=ticket.agency_id if scope == "location" else None,
        notified_at=now,
        reason=decision.reason,
    )
    session.add(incident)
    session.flush()
    return incident


def earlier_reports(
    session: Session, policy: TriagePolicy, incident: Incident, ticket: Ticket, now: dt.datetime
) -> list[Ticket]:
    """Return the open reports of the incident's window that are not in it yet (they formed the burst)."""
    window = policy.location.window if incident.scope == "location" else policy.system.window
    query = select(Ticket).where(
        Ticket.category == incident.category,
        Ticket.created_at >= now - window,
        Ticket.status.in_(OPEN_STATUSES),
        Ticket.id != ticket.id,
    )
    if incident.scope == "location":
        query = query.where(Ticket.agency_id == incident.agency_id)
    query = query.where((Ticket.incident_id.is_(None)) | (Ticket.incident_id != incident.id))
    return list(session.scalars(query.order_by(Ticket.id)))


def attach(
    session: Session, incident: Incident, tickets: Sequence[Ticket], *, origin: Origin, now: dt.datetime
) -> None:
    """Put reports into the incident and tell each reporter, on the request's page, that others reported it too."""
    notice = LOCATION_NOTICE if incident.scope == "location" else SYSTEM_NOTICE
    left = {ticket.incident_id for ticket in tickets if ticket.incident_id is not None} - {incident.id}
    for ticket in tickets:
        ticket.incident_id = incident.id
        record_change(
            session,
            ticket,
            "incident",
            actor=None,
            origin=origin,
            now=now,
            body=notice,
            public=True,
            reason=f"part of {incident.scope} incident {incident.id}: {incident.reason}",
        )
    incident.report_count += len(tickets)
    incident.last_report_at = now
    for incident_id in left:  # a location incident whose reports all moved to a system-wide one is over
        _close_when_empty(session, incident_id, now)


def join_system_incident(
    session: Session,
    ticket: Ticket,
    incident: Incident | None,
    decision: RoutingDecision,
    *,
    origin: Origin,
    now: dt.datetime,
) -> Incident:
    """Put an escalated ticket into the open system-wide incident of its category, opening one if needed."""
    if incident is None:
        incident = start_incident(session, decision, ticket, now)
    attach(session, incident, [ticket], origin=origin, now=now)
    return incident


def close_if_done(session: Session, ticket: Ticket, now: dt.datetime) -> None:
    """Close the ticket's incident once none of its reports is open any more (call after changing its status)."""
    if ticket.incident_id is not None:
        _close_when_empty(session, ticket.incident_id, now)


def _close_when_empty(session: Session, incident_id: int, now: dt.datetime) -> None:
    session.flush()
    still_open = session.scalar(
        select(func.count(Ticket.id)).where(Ticket.incident_id == incident_id, Ticket.status.in_(OPEN_STATUSES))
    )
    incident = session.get(Incident, incident_id)
    if not still_open and incident is not None and incident.closed_at is None:
        incident.closed_at = now
