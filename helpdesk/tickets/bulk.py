"""One change to many requests at once from the queue: assign them to a person, or set their status; all or none."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.audit.services import Origin
from helpdesk.orm import utcnow
from helpdesk.tickets.assignment import load_batch, may_assign, reassign_tickets
from helpdesk.tickets.context import Triage
from helpdesk.tickets.errors import TicketError
from helpdesk.tickets.history import check_version
from helpdesk.tickets.models import OPEN_STATUSES, Ticket
from helpdesk.tickets.permissions import can_work_ticket
from helpdesk.tickets.workflow import WORK_STATUSES, resolve_ticket, set_ticket_status
from helpdesk.vocabulary import Status

#: The statuses a bulk change may set: open and pending by hand, resolved with the resolution as its note.
BULK_STATUSES = (*WORK_STATUSES, Status.RESOLVED)


@dataclass(frozen=True, slots=True)
class BulkChange:
    """The one change: give the requests to `assignee`, or set them to `status`; `note` is the reason (the
    resolution when resolving), shown in each request's history."""

    assignee: User | None = None
    status: str | None = None
    note: str | None = None


def _set_status(
    session: Session,
    triage: Triage,
    tickets: list[Ticket],
    versions: Mapping[int, int],
    *,
    actor: User,
    status: str,
    note: str | None,
    origin: Origin,
    now: dt.datetime,
) -> list[Ticket]:
    if status not in BULK_STATUSES:
        raise TicketError(f"Choose a status among {', '.join(BULK_STATUSES)}.")
    if status == Status.RESOLVED and not (note and note.strip()):
        raise TicketError("Write the resolution: each reporter is told what solved their request.")
    for ticket in tickets:
        if ticket.status not in OPEN_STATUSES and ticket.status != status:
            raise TicketError(f"Request #{ticket.id} is {ticket.status}; it has to be reopened first.")
    changed = [ticket for ticket in tickets if ticket.status != status]
    for ticket in changed:
        if status == Status.RESOLVED:
            resolve_ticket(
                session,
                triage,
                ticket,
                actor=actor,
                resolution=note or "",
                expected_version=versions[ticket.id],
                origin=origin,
                now=now,
            )
        else:
            set_ticket_status(
                session,
                triage,
                ticket,
                actor=actor,
                status=status,
                reason=note,
                expected_version=versions[ticket.id],
                origin=origin,
                now=now,
            )
    return changed


def bulk_change_tickets(
    session: Session,
    triage: Triage,
    versions: Mapping[int, int],
    *,
    actor: User,
    change: BulkChange,
    origin: Origin,
    now: dt.datetime | None = None,
) -> list[Ticket]:
    """Apply one change to every request of `versions` (id -> version seen); return those it changed.

    Everything is checked before anything changes: a request the actor may not change raises PermissionError, one
    changed since it was seen TicketConflict, any other refusal TicketError. Each change is made by the ticket's
    own service (its history entry, audit row and mail); the caller commits, or rolls back on an error.
    """
    now = now or utcnow()
    if (change.assignee is None) == (change.status is None):
        raise TicketError("Choose one change: a person to assign, or a status.")
    tickets = load_batch(session, versions, verb="Change")
    allowed = may_assign if change.assignee is not None else can_work_ticket
    for ticket in tickets:
        if change.assignee is not None and ticket.status == Status.CLOSED:
            raise TicketError(f"Request #{ticket.id} is closed; reopen it before assigning it.")
        if not allowed(actor, ticket):
            raise PermissionError(f"not allowed to change request #{ticket.id}")
    for ticket in tickets:
        check_version(ticket, versions[ticket.id])
    note = change.note.strip() if change.note and change.note.strip() else None
    if change.assignee is not None:
        return reassign_tickets(
            session,
            triage,
            versions,
            actor=actor,
            to=change.assignee,
            origin=origin,
            reason=note,
            now=now,
            allowed=may_assign,
        )
    return _set_status(
        session, triage, tickets, versions, actor=actor, status=change.status or "", note=note, origin=origin, now=now
    )
