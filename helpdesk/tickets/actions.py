"""What a person may do on a ticket's page, who may hold it, and where it is, in words (Flask-free)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import is_national
from helpdesk.tickets.models import OPEN_STATUSES, Ticket
from helpdesk.tickets.permissions import (
    assignable_people,
    can_be_assigned,
    can_escalate,
    can_reassign,
    can_reopen,
    can_work_ticket,
)
from helpdesk.vocabulary import Role, Status, Tier

#: The actions of a ticket's page, each with its own small form.
ACTIONS = ("reply", "note", "status", "resolve", "assign", "escalate", "reopen", "ask_reopen")


def _is_reporter(user: User, ticket: Ticket) -> bool:
    return user.is_active and user.id == ticket.reporter_id


def may_try(user: User, ticket: Ticket, action: str) -> bool:
    """Tell whether the user's role and scope allow the action at all (a refusal is a 403).

    The ticket's status is left to the services, which refuse with a reason in words (a 400).
    """
    works = can_work_ticket(user, ticket)
    if action == "reply":
        return works or _is_reporter(user, ticket)
    if action in ("note", "status", "resolve"):
        return works
    if action == "assign":
        return works or can_reassign(user, ticket)
    if action == "escalate":
        return works and ticket.tier != Tier.NATIONAL and (ticket.tier == Tier.LOCAL_IT or user.role != Role.LOCAL_IT)
    if action == "reopen":
        return user.is_active and (
            is_national(user)
            or (
                user.role == Role.COMPACT_OFFICE
                and ticket.state_code is not None
                and ticket.state_code == user.state_code
            )
        )
    if action == "ask_reopen":
        return _is_reporter(user, ticket)
    return False


def offered_actions(user: User, ticket: Ticket) -> frozenset[str]:
    """Return the actions the page offers the user now (allowed, and possible in the ticket's status)."""
    status = ticket.status
    possible = {
        "reply": status != Status.CLOSED,
        "note": status != Status.CLOSED,
        "status": status in OPEN_STATUSES,
        "resolve": status in OPEN_STATUSES,
        "assign": status != Status.CLOSED,
        "escalate": can_escalate(user, ticket),
        "reopen": can_reopen(user, ticket),
        "ask_reopen": status == Status.CLOSED,
    }
    return frozenset(action for action in ACTIONS if possible[action] and may_try(user, ticket, action))


def assignment_candidates(session: Session, ticket: Ticket) -> list[User]:
    """Return the named, active people who may hold the ticket now, by name."""
    found = session.scalars(select(User).where(assignable_people(ticket)).order_by(User.name, User.id))
    return [user for user in found if can_be_assigned(user, ticket)]  # the rule itself decides; SQL only narrows


def tier_words(ticket: Ticket) -> str:
    """Return who works the ticket now: "Local IT of <agency>", "<State> compact office" or "National office"."""
    if ticket.tier == Tier.LOCAL_IT:
        return f"Local IT of {ticket.agency.name}"
    if ticket.tier == Tier.COMPACT_OFFICE:
        state = ticket.agency.state
        return f"{state.name if state is not None else ticket.state_code} compact office"
    return "National office"
