"""Tickets as open work of a user: deactivation is refused while they hold some, or hands them over in one step."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.accounts.services import AccountError
from helpdesk.accounts.workload import WorkItem, register_work_provider, unregister_work_provider
from helpdesk.audit.services import Origin
from helpdesk.tickets.assignment import hand_over, holder_problem
from helpdesk.tickets.context import Triage
from helpdesk.tickets.models import OPEN_STATUSES, Ticket
from helpdesk.tickets.notifications import ticket_path
from helpdesk.vocabulary import Status

#: Resolved tickets count too: the reporter's answer would bring them back to a deactivated holder.
HELD_STATUSES = (*OPEN_STATUSES, Status.RESOLVED)


def held_tickets(session: Session, user: User) -> list[Ticket]:
    """Return the tickets the user holds that may still need work, oldest first."""
    return list(
        session.scalars(
            select(Ticket).where(Ticket.assignee_id == user.id, Ticket.status.in_(HELD_STATUSES)).order_by(Ticket.id)
        )
    )


@dataclass(frozen=True, slots=True)
class TicketWorkProvider:
    """The accounts WorkProvider for tickets assigned to a user."""

    triage: Triage

    def open_work(self, session: Session, user: User) -> list[WorkItem]:
        """Return the user's held tickets as work items."""
        return [
            WorkItem("request", str(ticket.id), ticket.subject, ticket_path(ticket.id))
            for ticket in held_tickets(session, user)
        ]

    def holding_problem(self, session: Session, user: User, to: User) -> str | None:
        """Return why `to` cannot hold one of the user's tickets (the assignment rule), or None."""
        for ticket in held_tickets(session, user):
            problem = holder_problem(ticket, to)
            if problem:
                return f"{problem} Choose someone who works the same queue."
        return None

    def reassign_work(self, session: Session, user: User, to: User, *, actor: User | None, origin: Origin) -> int:
        """Give all the user's held tickets to `to`, or raise AccountError if `to` cannot hold one of them."""
        problem = self.holding_problem(session, user, to)
        if problem:
            raise AccountError(problem)
        tickets = held_tickets(session, user)
        return hand_over(
            session, self.triage, tickets, to, actor=actor, origin=origin, reason=f"{user.name} was deactivated"
        )


_installed: list[TicketWorkProvider] = []


def install_work_provider(triage: Triage) -> TicketWorkProvider:
    """Register the ticket provider for `triage`, replacing one installed by an earlier app of this process."""
    provider = TicketWorkProvider(triage)
    while _installed:
        unregister_work_provider(_installed.pop())
    register_work_provider(provider)
    _installed.append(provider)
    return provider
