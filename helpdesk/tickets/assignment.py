"""Who holds a ticket: assignment to a named, active person, and Manage Case Load (many tickets at once)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.audit.services import Origin
from helpdesk.orm import utcnow
from helpdesk.tickets.context import Triage
from helpdesk.tickets.errors import TicketError
from helpdesk.tickets.history import check_version, flush_changes, record_change
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.notifications import notify_assigned
from helpdesk.tickets.permissions import can_be_assigned, can_reassign, can_work_ticket
from helpdesk.triage.policy import Tier
from helpdesk.triage.routing import TIER_NAMES
from helpdesk.vocabulary import Status

#: At most this many tickets move in one Manage Case Load step.
MAX_BATCH = 500


def load_batch(session: Session, versions: Mapping[int, int], *, verb: str) -> list[Ticket]:
    """Return the tickets of a many-at-once change (by id), refusing none, too many or an unknown one."""
    if not versions:
        raise TicketError(f"Choose at least one request to {verb.lower()}.")
    if len(versions) > MAX_BATCH:
        raise TicketError(f"{verb} at most {MAX_BATCH} requests at once.")
    tickets = list(session.scalars(select(Ticket).where(Ticket.id.in_(versions)).order_by(Ticket.id)))
    missing = sorted(set(versions) - {ticket.id for ticket in tickets})
    if missing:
        raise TicketError(f"No request #{missing[0]}.")
    return tickets


def holder_problem(ticket: Ticket, user: User) -> str | None:
    """Return why `user` cannot hold the ticket (None when they can)."""
    if can_be_assigned(user, ticket):
        return None
    if not user.is_active:
        return f"{user.name} is deactivated."
    tier = Tier(ticket.tier)
    return (
        f"{user.name} cannot take request #{ticket.id}: it is with the {TIER_NAMES[tier]} (tier {tier.level}) "
        f"of {ticket.agency.name if tier is Tier.LOCAL_IT else ticket.state_code or 'the national office'}."
    )


def _give(
    session: Session,
    ticket: Ticket,
    to: User,
    *,
    actor: User | None,
    origin: Origin,
    now: dt.datetime,
    reason: str | None,
) -> None:
    before = ticket.assignee.name if ticket.assignee is not None else "the queue"
    ticket.assignee = to
    words = f"assigned to {to.name} (from {before})" + (f": {reason}" if reason else "")
    record_change(session, ticket, "assigned", actor=actor, origin=origin, now=now, reason=words, public=True)


def assign_ticket(
    session: Session,
    triage: Triage,
    ticket: Ticket,
    *,
    actor: User,
    assignee: User,
    expected_version: int,
    origin: Origin,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Give a ticket to a named, active person who may hold it (never a shared mailbox or a generic account)."""
    now = now or utcnow()
    if not (can_work_ticket(actor, ticket) or can_reassign(actor, ticket)):
        raise PermissionError("not allowed to assign this request")
    if ticket.status == Status.CLOSED:
        raise TicketError("This request is closed; reopen it before assigning it.")
    check_version(ticket, expected_version)
    problem = holder_problem(ticket, assignee)
    if problem:
        raise TicketError(problem)
    if ticket.assignee_id == assignee.id:
        return
    reason = reason.strip() if reason else None
    _give(session, ticket, assignee, actor=actor, origin=origin, now=now, reason=reason)
    flush_changes(session, ticket)
    notify_assigned(session, triage.link, [ticket], assignee, actor, reason)


def may_assign(actor: User, ticket: Ticket) -> bool:
    """Return whether the actor may give the ticket to someone (as assign_ticket: who works it or reassigns it)."""
    return ticket.status != Status.CLOSED and (can_work_ticket(actor, ticket) or can_reassign(actor, ticket))


def reassign_tickets(
    session: Session,
    triage: Triage,
    versions: Mapping[int, int],
    *,
    actor: User,
    to: User,
    origin: Origin,
    reason: str | None = None,
    now: dt.datetime | None = None,
    allowed: Callable[[User, Ticket], bool] = can_reassign,
) -> list[Ticket]:
    """Manage Case Load: move several tickets to one person, all or none; `versions` maps ticket id to version seen.

    Supervisors move their agency's tickets, the compact office its state's; one mail tells the new holder.
    The queue's bulk assignment passes `allowed=may_assign`: staff also assign the requests they work.
    """
    now = now or utcnow()
    tickets = load_batch(session, versions, verb="Reassign")
    for ticket in tickets:
        if not allowed(actor, ticket):
            raise PermissionError(f"not allowed to reassign request #{ticket.id}")
        check_version(ticket, versions[ticket.id])
        problem = holder_problem(ticket, to)
        if problem:
            raise TicketError(problem)
    reason = reason.strip() if reason else None
    moved = [ticket for ticket in tickets if ticket.assignee_id != to.id]
    for ticket in moved:
        _give(session, ticket, to, actor=actor, origin=origin, now=now, reason=reason)
    if moved:
        flush_changes(session, moved[0])
    notify_assigned(session, triage.link, moved, to, actor, reason)
    return moved


def hand_over(
    session: Session,
    triage: Triage,
    tickets: list[Ticket],
    to: User,
    *,
    actor: User | None,
    origin: Origin,
    reason: str,
    now: dt.datetime | None = None,
) -> int:
    """Move tickets already checked by the caller (deactivation of their holder) to `to`; return how many."""
    now = now or utcnow()
    for ticket in tickets:
        _give(session, ticket, to, actor=actor, origin=origin, now=now, reason=reason)
    if tickets:
        flush_changes(session, tickets[0])
    notify_assigned(session, triage.link, tickets, to, actor, reason)
    return len(tickets)
