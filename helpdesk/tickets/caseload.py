"""Manage Case Load's reading: who holds which requests in a person's area, and who may take them over."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.tickets.assignment import MAX_BATCH
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.permissions import TIER_ROLES, can_be_assigned, can_manage_caseload, reassign_area
from helpdesk.tickets.workload import HELD_STATUSES
from helpdesk.vocabulary import Role

NOT_ALLOWED = (
    "Manage Case Load is for supervisors (their agency), compact office staff (their state) and national staff."
)
_WORKERS = tuple(TIER_ROLES.values())


@dataclass(frozen=True, slots=True)
class Holder:
    """A person holding requests of the case load, and how many."""

    user: User
    count: int


def caseload_area(user: User) -> list[ColumnElement[bool]]:
    """Return where the user may move requests (permissions.reassign_area), or refuse one with no case load."""
    if not can_manage_caseload(user):
        raise PermissionError(NOT_ALLOWED)
    return [reassign_area(user)]


def caseload_scope(user: User) -> list[ColumnElement[bool]]:
    """Return the conditions of the requests held by someone in the user's area that may still need work."""
    return [Ticket.status.in_(HELD_STATUSES), Ticket.assignee_id.is_not(None), *caseload_area(user)]


def list_holders(session: Session, scope: list[ColumnElement[bool]]) -> list[Holder]:
    """Return the people holding requests of the case load, by name, with their counts."""
    rows = session.execute(select(Ticket.assignee_id, func.count()).where(*scope).group_by(Ticket.assignee_id))
    counts = {holder: count for holder, count in rows}
    people = session.scalars(select(User).where(User.id.in_(counts)).order_by(User.name, User.id))
    return [Holder(person, counts[person.id]) for person in people]


def held_by(session: Session, scope: list[ColumnElement[bool]], holder_id: int) -> list[Ticket]:
    """Return the requests of the case load one person holds, most urgent first (at most one batch)."""
    query = select(Ticket).where(*scope, Ticket.assignee_id == holder_id)
    return list(session.scalars(query.order_by(Ticket.resolution_due, Ticket.id).limit(MAX_BATCH)))


def takers(session: Session, tickets: list[Ticket], holder_id: int | None) -> list[User]:
    """Return the active people who may hold at least one of the requests (the holder excepted)."""
    states = {ticket.state_code for ticket in tickets if ticket.state_code}
    query = select(User).where(
        User.is_active.is_(True),
        User.role.in_(_WORKERS),
        or_(User.state_code.in_(states), User.role == Role.NATIONAL_ADMIN),
    )
    people = session.scalars(query.order_by(User.name, User.id))
    # Who may hold a request depends on its tier, agency and state only: one request of each kind is enough.
    kinds = list({(ticket.tier, ticket.agency_id, ticket.state_code): ticket for ticket in tickets}.values())
    return [p for p in people if p.id != holder_id and any(can_be_assigned(p, ticket) for ticket in kinds)]
