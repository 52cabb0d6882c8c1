"""Moving a ticket to another tier (routing decisions applied), SLA due times, and escalation by staff."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.audit.services import Origin
from helpdesk.orm import utcnow
from helpdesk.tickets.agencies import agency_info
from helpdesk.tickets.context import Triage
from helpdesk.tickets.errors import TicketError
from helpdesk.tickets.history import check_version, flush_changes, record_change
from helpdesk.tickets.incidents import join_system_incident, open_incident
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.notifications import notify_escalated, notify_moved, responders
from helpdesk.tickets.permissions import can_escalate
from helpdesk.triage.policy import Cause, Tier, TriagePolicy
from helpdesk.triage.routing import AgencyInfo, RoutingDecision, escalation_decision
from helpdesk.triage.sla import due_at

#: Least text accepted for "what did you check" when escalating by hand.
MIN_CHECKED = 10
#: Said when local IT escalates without confirming that local causes are ruled out (the form's tick box).
RULE_OUT_FIRST = (
    'Tick "I ruled out local causes" first: the compact office takes a request once local causes are ruled out.'
)


def set_due_times(ticket: Ticket, policy: TriagePolicy, time_zone: str, start: dt.datetime) -> None:
    """Set the ticket's first-response and resolution due times at its tier, counted from `start`."""
    calendar = policy.calendar(time_zone)
    target = policy.targets[Tier(ticket.tier)]
    ticket.first_response_due = due_at(start, target, "first_response", calendar)
    ticket.resolution_due = due_at(start, target, "resolution", calendar)


def move_ticket(
    session: Session,
    policy: TriagePolicy,
    ticket: Ticket,
    decision: RoutingDecision,
    *,
    actor: User | None,
    origin: Origin,
    now: dt.datetime,
    time_zone: str,
    body: str | None = None,
) -> None:
    """Apply an escalation decision: new tier, its named assignee or its queue, fresh due times, an event."""
    ticket.tier = decision.tier.value
    # The previous holder works another tier: the ticket goes to the decision's named person or the queue.
    ticket.assignee = session.get(User, decision.assignee.id) if decision.assignee else None
    ticket.escalated_at = now
    ticket.route_reason = decision.reason
    set_due_times(ticket, policy, time_zone, now)
    record_change(
        session,
        ticket,
        "escalated",
        actor=actor,
        origin=origin,
        now=now,
        reason=decision.reason,
        body=body,
        public=True,
    )


def escalate_ticket(
    session: Session,
    triage: Triage,
    ticket: Ticket,
    *,
    actor: User,
    expected_version: int,
    checked: str,
    origin: Origin,
    ruled_out: bool = False,
    now: dt.datetime | None = None,
) -> RoutingDecision:
    """Move a ticket up a tier by hand: local IT after ruling out local causes, the compact office to national.

    :param checked: what the actor checked (local causes ruled out, or why it is system-wide); required.
    :param ruled_out: the actor confirms local causes are ruled out; required to leave tier 1 (local IT).
    """
    now = now or utcnow()
    if not can_escalate(actor, ticket):
        raise PermissionError("not allowed to escalate this request")
    check_version(ticket, expected_version)
    if ticket.tier == Tier.LOCAL_IT and not ruled_out:
        raise TicketError(RULE_OUT_FIRST, field="ruled_out")
    checked = checked.strip()
    if len(checked) < MIN_CHECKED:
        raise TicketError("Say which local causes you ruled out and what you checked before escalating.")
    policy, tier = triage.policy, Tier(ticket.tier)
    info = agency_info(session, ticket.agency)
    system = None
    if tier is Tier.LOCAL_IT:
        decision = escalation_decision(
            policy, category=ticket.category, tier=tier, agency=info, cause=Cause.LOCAL_RULED_OUT
        )
    else:
        system = open_incident(session, "system", ticket.category)
        decision = escalation_decision(
            policy,
            category=ticket.category,
            tier=tier,
            agency=info,
            cause=Cause.SYSTEM_WIDE,
            open_system_incident=system is not None,
        )
    if decision is None:
        raise TicketError(f"The triage policy has no escalation from tier {tier.level} for this request.")
    move_ticket(
        session, policy, ticket, decision, actor=actor, origin=origin, now=now, time_zone=info.time_zone, body=checked
    )
    if decision.incident == "system":
        join_system_incident(session, ticket, system, decision, origin=origin, now=now)
    flush_changes(session, ticket)
    announce_move(session, triage, [ticket], decision, info, reasons={ticket.id: decision.reason})
    notify_moved(session, triage.link, ticket, decision.queue.label)
    return decision


def announce_move(
    session: Session,
    triage: Triage,
    tickets: list[Ticket],
    decision: RoutingDecision,
    info: AgencyInfo,
    reasons: dict[int, str],
) -> int:
    """Mail the tier that received `tickets` (all moved by decisions to the same queue and assignee)."""
    recipients = responders(info, decision.tier, decision.assignee)
    return notify_escalated(session, triage.link, tickets, recipients, decision.target, reasons)
