"""Who may see and work which ticket: scoped to the actor's agency (tier 1) or state (tier 2); national sees all."""

from __future__ import annotations

from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import is_national
from helpdesk.tickets.models import Ticket
from helpdesk.triage.policy import Tier

#: The role that works each tier's queue.
TIER_ROLES = {Tier.LOCAL_IT: "local_it", Tier.COMPACT_OFFICE: "compact_office", Tier.NATIONAL: "national_admin"}


def can_view_ticket(user: User, ticket: Ticket) -> bool:
    """Reporters see their own; local IT and supervisors their agency's; the compact office its state's."""
    if not user.is_active:
        return False
    if is_national(user) or ticket.reporter_id == user.id or ticket.assignee_id == user.id:
        return True
    if user.role in ("local_it", "po_supervisor"):
        return ticket.agency_id == user.agency_id
    return user.role == "compact_office" and ticket.state_code is not None and ticket.state_code == user.state_code


def can_work_ticket(user: User, ticket: Ticket) -> bool:
    """Return whether the user may answer, note, assign and change the status of the ticket."""
    if not user.is_active:
        return False
    if is_national(user):
        return True
    if user.role == "local_it":
        return ticket.tier == "local_it" and ticket.agency_id == user.agency_id
    return user.role == "compact_office" and ticket.state_code == user.state_code and ticket.tier != "national"


def can_escalate(user: User, ticket: Ticket) -> bool:
    """Local IT escalate their tier-1 tickets to the compact office, which escalates to the national office."""
    if ticket.status in ("resolved", "closed") or ticket.tier == "national":
        return False
    return can_work_ticket(user, ticket) and (ticket.tier == "local_it" or user.role != "local_it")


def can_reassign(user: User, ticket: Ticket) -> bool:
    """Supervisors reassign within their agency, the compact office within its state ("Manage Case Load")."""
    if not user.is_active or ticket.status == "closed":
        return False
    if is_national(user):
        return True
    if user.role == "po_supervisor":
        return ticket.agency_id == user.agency_id
    return user.role == "compact_office" and ticket.state_code == user.state_code


def can_reopen(user: User, ticket: Ticket) -> bool:
    """Only compact office staff (of the ticket's state) and national staff reopen a closed ticket."""
    return ticket.status in ("resolved", "closed") and reopens_requests_of(user, ticket)


def reopens_requests_of(user: User, ticket: Ticket) -> bool:
    """Tell whether `user` is one who reopens the ticket once it is resolved or closed (whatever its status now)."""
    return user.is_active and (is_national(user) or (user.role == "compact_office"
                                                     and ticket.state_code == user.state_code))


def can_be_assigned(user: User, ticket: Ticket) -> bool:
    """Return whether `user` (a named, active person) may hold the ticket in its current tier."""
    if not user.is_active:
        return False
    if ticket.tier == "local_it":
        # A supervisor may hand a ticket to anyone of the agency who works it: local IT, or the state's office.
        return (user.role == "local_it" and user.agency_id == ticket.agency_id) or (
            user.role == "compact_office" and user.state_code == ticket.state_code)
    if ticket.tier == "compact_office":
        return user.role == "compact_office" and user.state_code == ticket.state_code
    return user.role == "national_admin"
