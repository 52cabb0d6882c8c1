"""Working a ticket: replies and internal notes, status changes, resolving, reopening and asking to reopen."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.audit.services import Origin
from helpdesk.orm import utcnow
from helpdesk.text import clean_text
from helpdesk.tickets.agencies import agency_info
from helpdesk.tickets.context import Triage
from helpdesk.tickets.errors import TicketError
from helpdesk.tickets.escalation.escalate import set_due_times
from helpdesk.tickets.history import check_version, flush_changes, record_change
from helpdesk.tickets.incidents import close_if_done
from helpdesk.tickets.models import OPEN_STATUSES, Ticket, TicketEvent
from helpdesk.tickets.notifications import (
    notify_reopen_requested,
    notify_reopened,
    notify_reply,
    notify_resolved,
    ticket_responders,
)
from helpdesk.tickets.permissions import can_be_assigned, can_reopen, can_work_ticket, reopens_requests_of
from helpdesk.vocabulary import Role, Status

MAX_BODY = 20_000
#: The statuses staff set by hand; "resolved" has its own service, "closed" comes from the auto-close sweep.
WORK_STATUSES = (Status.OPEN, Status.PENDING)


def _text(value: str, what: str) -> str:
    value = clean_text(value).strip()
    if not value:
        raise TicketError(f"Write {what} first.")
    if len(value) > MAX_BODY:
        raise TicketError(f"Keep {what} under {MAX_BODY:,} characters.")
    return value


def reply_ticket(
    session: Session,
    triage: Triage,
    ticket: Ticket,
    *,
    actor: User,
    body: str,
    expected_version: int,
    origin: Origin,
    public: bool = True,
    status: str | None = None,
    now: dt.datetime | None = None,
) -> TicketEvent:
    """Add a public reply or (staff only) an internal note; staff may set open/pending with it.

    A reporter's reply to a pending or resolved request opens it again; the first public staff reply is the
    first response.
    """
    now = now or utcnow()
    body = _text(body, "a reply" if public else "a note")
    is_reporter = actor.id == ticket.reporter_id and actor.is_active
    is_worker = can_work_ticket(actor, ticket)
    if not (is_reporter or is_worker) or (not public and not is_worker):
        raise PermissionError("not allowed to write on this request")
    if ticket.status == Status.CLOSED:
        raise TicketError("This request is closed. Ask for it to be reopened instead of replying.")
    if status is not None and (status not in WORK_STATUSES or not is_worker):
        raise TicketError(f"A reply can set the status to {' or '.join(WORK_STATUSES)} only.")
    if status is not None and ticket.status not in OPEN_STATUSES:
        raise TicketError(f"This request is {ticket.status}; it has to be reopened first.")
    check_version(ticket, expected_version)
    before = ticket.status
    if is_reporter and ticket.status in (Status.PENDING, Status.RESOLVED):
        ticket.status, ticket.resolved_at = Status.OPEN, None
    elif is_worker and public:
        ticket.first_responded_at = ticket.first_responded_at or now
        ticket.status = status or (Status.OPEN if ticket.status == Status.NEW else ticket.status)
    elif status:
        ticket.status = status
    moved = f"status {before} -> {ticket.status}" if ticket.status != before else None
    event = record_change(
        session,
        ticket,
        "reply" if public else "note",
        actor=actor,
        origin=origin,
        now=now,
        body=body,
        public=public,
        reason=moved,
    )
    flush_changes(session, ticket)
    if public and is_reporter:
        notify_reply(session, triage.link, ticket, actor, ticket_responders(session, ticket), to_reporter=False)
    elif public:
        notify_reply(session, triage.link, ticket, actor, [ticket.reporter.email], to_reporter=True)
    return event


def set_ticket_status(
    session: Session,
    triage: Triage,
    ticket: Ticket,
    *,
    actor: User,
    status: str,
    expected_version: int,
    origin: Origin,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Set an open request to open or pending (waiting for the reporter)."""
    now = now or utcnow()
    if not can_work_ticket(actor, ticket):
        raise PermissionError("not allowed to work this request")
    if status not in WORK_STATUSES:
        raise TicketError(f"Choose {' or '.join(WORK_STATUSES)}; resolve a request with its resolution.")
    if ticket.status not in OPEN_STATUSES:
        raise TicketError(f"This request is {ticket.status}; it has to be reopened first.")
    check_version(ticket, expected_version)
    if status == ticket.status:
        return
    before, ticket.status = ticket.status, status
    record_change(
        session,
        ticket,
        "status",
        actor=actor,
        origin=origin,
        now=now,
        reason=f"status {before} -> {status}" + (f": {reason.strip()}" if reason and reason.strip() else ""),
    )
    flush_changes(session, ticket)


def resolve_ticket(
    session: Session,
    triage: Triage,
    ticket: Ticket,
    *,
    actor: User,
    resolution: str,
    expected_version: int,
    origin: Origin,
    now: dt.datetime | None = None,
) -> TicketEvent:
    """Resolve a request with its answer; it closes after the policy's auto-close days unless the reporter answers."""
    now = now or utcnow()
    if not can_work_ticket(actor, ticket):
        raise PermissionError("not allowed to work this request")
    resolution = _text(resolution, "the resolution")
    if ticket.status not in OPEN_STATUSES:
        raise TicketError(f"This request is already {ticket.status}.")
    check_version(ticket, expected_version)
    ticket.status, ticket.resolved_at = Status.RESOLVED, now
    ticket.first_responded_at = ticket.first_responded_at or now
    days = triage.policy.auto_close.days
    event = record_change(
        session,
        ticket,
        "resolved",
        actor=actor,
        origin=origin,
        now=now,
        body=resolution,
        reason=f"resolved; closes by itself after {days} days unless the reporter answers",
    )
    flush_changes(session, ticket)
    close_if_done(session, ticket, now)
    notify_resolved(session, triage.link, ticket, actor, days)
    return event


def reopen_ticket(
    session: Session,
    triage: Triage,
    ticket: Ticket,
    *,
    actor: User,
    reason: str,
    expected_version: int,
    origin: Origin,
    now: dt.datetime | None = None,
) -> None:
    """Reopen a resolved or closed request (compact office of its state and national staff only)."""
    now = now or utcnow()
    if not reopens_requests_of(actor, ticket):
        raise PermissionError("only the compact office and the national office reopen requests")
    if not can_reopen(actor, ticket):  # one who reopens it, but it is still open or pending
        raise TicketError(f"This request is {ticket.status}: there is nothing to reopen.")
    reason = _text(reason, "why the request is reopened")
    check_version(ticket, expected_version)
    ticket.status, ticket.resolved_at, ticket.closed_at = Status.OPEN, None, None
    if ticket.assignee is not None and not can_be_assigned(ticket.assignee, ticket):
        ticket.assignee = None  # its holder left or moved on: back to the queue
    # The SLA starts again at the ticket's tier: reopening old work must not escalate it at once.
    set_due_times(ticket, triage.policy, ticket.agency.time_zone, now)
    record_change(
        session,
        ticket,
        "reopened",
        actor=actor,
        origin=origin,
        now=now,
        body=reason,
        public=True,
        reason="reopened by the compact office" if actor.role == Role.COMPACT_OFFICE else "reopened",
    )
    flush_changes(session, ticket)
    notify_reopened(session, triage.link, ticket, [ticket.reporter.email, *ticket_responders(session, ticket)], actor)


def request_reopen(
    session: Session,
    triage: Triage,
    ticket: Ticket,
    *,
    actor: User,
    reason: str,
    expected_version: int,
    origin: Origin,
    now: dt.datetime | None = None,
) -> TicketEvent:
    """Let the reporter ask for a closed request to be reopened; the compact office of the state is told."""
    now = now or utcnow()
    if actor.id != ticket.reporter_id or not actor.is_active:
        raise PermissionError("only the reporter can ask for a request to be reopened")
    if ticket.status != Status.CLOSED:
        raise TicketError("This request is not closed: reply to it instead.")
    reason = _text(reason, "why the request should be reopened")
    check_version(ticket, expected_version)
    event = record_change(
        session,
        ticket,
        "reopen_requested",
        actor=actor,
        origin=origin,
        now=now,
        body=reason,
        public=True,
        reason="the reporter asks for the request to be reopened",
    )
    flush_changes(session, ticket)
    info = agency_info(session, ticket.agency)
    office = info.compact_office or info.national_office
    notify_reopen_requested(session, triage.link, ticket, [person.email for person in office])
    return event
