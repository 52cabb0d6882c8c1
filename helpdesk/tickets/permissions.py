"""Who may see and work which ticket: scoped to the actor's agency (tier 1) or state (tier 2); national sees all.

A rule that is also needed in SQL has its twin right after it; tests/tickets/test_permission_twins.py proves each
pair gives the same answer for every person and ticket of generated organisations.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, true

from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import is_national
from helpdesk.tickets.models import Ticket
from helpdesk.triage.policy import Tier
from helpdesk.vocabulary import Role, Status

#: The role that works each tier's queue.
TIER_ROLES = {
    Tier.LOCAL_IT: Role.LOCAL_IT,
    Tier.COMPACT_OFFICE: Role.COMPACT_OFFICE,
    Tier.NATIONAL: Role.NATIONAL_ADMIN,
}


def can_view_ticket(user: User, ticket: Ticket) -> bool:
    """Reporters see their own; local IT and supervisors their agency's; the compact office its state's."""
    if not user.is_active:
        return False
    if is_national(user) or ticket.reporter_id == user.id or ticket.assignee_id == user.id:
        return True
    if user.role in (Role.LOCAL_IT, Role.PO_SUPERVISOR):
        return ticket.agency_id == user.agency_id
    return user.role == Role.COMPACT_OFFICE and ticket.state_code is not None and ticket.state_code == user.state_code


def visibility(user: User) -> ColumnElement[bool]:
    """Return the condition of the tickets the user may see (can_view_ticket, in SQL)."""
    if not user.is_active:
        return false()
    if is_national(user):
        return true()
    own = or_(Ticket.reporter_id == user.id, Ticket.assignee_id == user.id)
    if user.role in (Role.LOCAL_IT, Role.PO_SUPERVISOR):
        return or_(own, Ticket.agency_id == user.agency_id)
    if user.role == Role.COMPACT_OFFICE and user.state_code:
        return or_(own, Ticket.state_code == user.state_code)
    return own


def can_work_ticket(user: User, ticket: Ticket) -> bool:
    """Return whether the user may answer, note, assign and change the status of the ticket."""
    if not user.is_active:
        return False
    if is_national(user):
        return True
    if user.role == Role.LOCAL_IT:
        return ticket.tier == Tier.LOCAL_IT and ticket.agency_id == user.agency_id
    return user.role == Role.COMPACT_OFFICE and ticket.state_code == user.state_code and ticket.tier != Tier.NATIONAL


def can_escalate(user: User, ticket: Ticket) -> bool:
    """Local IT escalate their tier-1 tickets to the compact office, which escalates to the national office."""
    if ticket.status in (Status.RESOLVED, Status.CLOSED) or ticket.tier == Tier.NATIONAL:
        return False
    return can_work_ticket(user, ticket) and (ticket.tier == Tier.LOCAL_IT or user.role != Role.LOCAL_IT)


def can_reassign(user: User, ticket: Ticket) -> bool:
    """Supervisors reassign within their agency, the compact office within its state ("Manage Case Load")."""
    if not user.is_active or ticket.status == Status.CLOSED:
        return False
    if is_national(user):
        return True
    if user.role == Role.PO_SUPERVISOR:
        return ticket.agency_id == user.agency_id
    # Office staff without a state (a misfiled account) manage nothing, not every stateless ticket.
    return user.role == Role.COMPACT_OFFICE and bool(user.state_code) and ticket.state_code == user.state_code


def can_manage_caseload(user: User) -> bool:
    """Return whether the user has a case load to manage: supervisors, compact office staff and national staff."""
    return user.is_active and (
        is_national(user)
        or user.role == Role.PO_SUPERVISOR
        or (user.role == Role.COMPACT_OFFICE and bool(user.state_code))
    )


def reassign_area(user: User) -> ColumnElement[bool]:
    """Return where the user may move requests, whatever their status: their agency, state, or everywhere."""
    if not can_manage_caseload(user):
        return false()
    if is_national(user):
        return true()
    if user.role == Role.PO_SUPERVISOR:
        return Ticket.agency_id == user.agency_id
    return Ticket.state_code == user.state_code


def reassignable(user: User) -> ColumnElement[bool]:
    """Return the condition of the tickets the user may reassign (can_reassign, in SQL)."""
    return and_(Ticket.status != Status.CLOSED, reassign_area(user))


def can_reopen(user: User, ticket: Ticket) -> bool:
    """Only compact office staff (of the ticket's state) and national staff reopen a closed ticket."""
    return ticket.status in (Status.RESOLVED, Status.CLOSED) and reopens_requests_of(user, ticket)


def reopens_requests_of(user: User, ticket: Ticket) -> bool:
    """Tell whether `user` is one who reopens the ticket once it is resolved or closed (whatever its status now)."""
    return user.is_active and (
        is_national(user) or (user.role == Role.COMPACT_OFFICE and ticket.state_code == user.state_code)
    )


def can_be_assigned(user: User, ticket: Ticket) -> bool:
    """Return whether `user` (a named, active person) may hold the ticket in its current tier."""
    if not user.is_active:
        return False
    # A ticket without a state has no state office: None == None must not make stateless office staff its holders.
    office = user.role == Role.COMPACT_OFFICE and bool(ticket.state_code) and user.state_code == ticket.state_code
    if ticket.tier == Tier.LOCAL_IT:
        # A supervisor may hand a ticket to anyone of the agency who works it: local IT, or the state's office.
        return (user.role == Role.LOCAL_IT and user.agency_id == ticket.agency_id) or office
    if ticket.tier == Tier.COMPACT_OFFICE:
        return office
    return user.role == Role.NATIONAL_ADMIN


def assignable_people(ticket: Ticket) -> ColumnElement[bool]:
    """Return the condition of the people (user rows) who may hold the ticket at its tier (can_be_assigned, in SQL)."""
    office = (
        and_(User.role == Role.COMPACT_OFFICE, User.state_code == ticket.state_code) if ticket.state_code else false()
    )
    if ticket.tier == Tier.LOCAL_IT:
        holders = or_(and_(User.role == Role.LOCAL_IT, User.agency_id == ticket.agency_id), office)
    elif ticket.tier == Tier.COMPACT_OFFICE:
        holders = office
    else:
        holders = User.role == Role.NATIONAL_ADMIN
    return and_(User.is_active.is_(True), holders)
