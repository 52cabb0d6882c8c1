"""Background sweeps: escalate overdue tier-1 tickets, close resolved tickets; idempotent, safe side by side.

Each batch is its own transaction. PostgreSQL workers skip the rows another worker has locked
(FOR UPDATE SKIP LOCKED); on SQLite every write transaction is BEGIN IMMEDIATE, so batches run one at a time.
A batch re-reads its tickets inside its transaction, so a ticket another worker escalated is left alone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from helpdesk.audit.services import Origin
from helpdesk.database import utcnow
from helpdesk.tickets.agencies import AgencyDirectory
from helpdesk.tickets.context import Triage
from helpdesk.tickets.escalation import announce_move, move_ticket
from helpdesk.tickets.history import record_change
from helpdesk.tickets.incidents import close_if_done
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.policy import Cause, Tier
from helpdesk.tickets.routing import AgencyInfo, RoutingDecision, escalation_decision
from helpdesk.tickets.sla import due_at, overdue_milestones

#: Statuses whose SLA clock runs: a pending ticket waits for its reporter and is not escalated.
RUNNING = ("new", "open")
BATCH = 500
SWEEP = Origin(ip=None, user_agent="helpdesk sweep")


@dataclass(frozen=True, slots=True)
class SweepCounts:
    """What a sweep did."""

    escalated: int = 0
    closed: int = 0

    def __str__(self) -> str:
        return f"escalated {self.escalated} overdue tickets, closed {self.closed} resolved tickets"


def _claim(session: Session, query: Select[tuple[int, dt.datetime | None]]) -> list[tuple[int, dt.datetime | None]]:
    """Return (id, sort key) of the candidate rows, locked for this transaction on PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [(row[0], row[1]) for row in session.execute(query)]


def escalate_overdue(sessions: Callable[[], Session], triage: Triage, *, now: dt.datetime | None = None,
                     batch: int = BATCH, origin: Origin = SWEEP) -> int:
    """Escalate tier-1 tickets past a first-response or resolution target (rules in routing.yml); return how many.

    Candidates come from the index on (status, tier, first_response_due): a resolution target is never shorter
    than the first-response one, so every overdue ticket is among those past their first-response due time.
    """
    now = now or utcnow()
    directory: AgencyDirectory | None = None
    total = 0
    for status in RUNNING:
        after: tuple[dt.datetime, int] | None = None
        while True:
            with sessions() as session, session.begin():
                directory = directory or AgencyDirectory(session)
                directory.rebind(session)
                query = (select(Ticket.id, Ticket.first_response_due)
                         .where(Ticket.status == status, Ticket.tier == Tier.LOCAL_IT.value,
                                Ticket.first_response_due <= now)
                         .order_by(Ticket.first_response_due, Ticket.id).limit(batch))
                if after is not None:  # keyset: tickets left alone (not overdue yet) are not read again
                    query = query.where(or_(Ticket.first_response_due > after[0],
                                            and_(Ticket.first_response_due == after[0], Ticket.id > after[1])))
                rows = _claim(session, query)
                if not rows:
                    break
                tickets = list(session.scalars(select(Ticket).where(Ticket.id.in_([row[0] for row in rows]))
                                               .order_by(Ticket.id)))
                total += _escalate_batch(session, triage, tickets, directory, now, origin)
            last_id, last_due = rows[-1]
            if len(rows) < batch or last_due is None:
                break
            after = (last_due, last_id)
    return total


def _escalate_batch(session: Session, triage: Triage, tickets: list[Ticket], directory: AgencyDirectory,
                    now: dt.datetime, origin: Origin) -> int:
    policy, target = triage.policy, triage.policy.targets[Tier.LOCAL_IT]
    moved: dict[tuple[str, int | None], list[tuple[Ticket, RoutingDecision, AgencyInfo]]] = defaultdict(list)
    due: dict[tuple[str, str], tuple[dt.datetime, dt.datetime]] = {}
    for ticket in tickets:
        # Re-read inside this transaction: another worker may have moved it since the candidates were chosen.
        if ticket.status not in RUNNING or ticket.tier != Tier.LOCAL_IT.value:
            continue
        info = directory.get(ticket.agency)
        calendar = policy.calendar(info.time_zone)
        late = overdue_milestones(ticket.created_at, now, target, calendar,
                                  first_response_at=ticket.first_responded_at)
        if not late:
            continue  # past due only at the boundary of business hours, or answered and not yet overdue
        cause = Cause.OVERDUE_FIRST_RESPONSE if late[0].milestone == "first_response" else Cause.OVERDUE_RESOLUTION
        decision = escalation_decision(policy, category=ticket.category, tier=Tier.LOCAL_IT, agency=info,
                                       cause=cause, elapsed=late[0].elapsed)
        if decision is None:
            continue  # the policy flags but does not move these
        key = (decision.tier.value, info.time_zone)
        if key not in due:  # every ticket of a batch reaches its new tier at `now`: same due times per zone
            tier_target = policy.targets[decision.tier]
            due[key] = (due_at(now, tier_target, "first_response", calendar),
                        due_at(now, tier_target, "resolution", calendar))
        move_ticket(session, policy, ticket, decision, actor=None, origin=origin, now=now,
                    time_zone=info.time_zone, due=due[key])
        queue = decision.queue
        moved[(f"{queue.tier.value}:{queue.state_code}:{queue.agency_id}", decision.assignee.id
               if decision.assignee else None)].append((ticket, decision, info))
    session.flush()
    for group in moved.values():  # one mail per receiving queue (or named person) per batch, not per ticket
        _, decision, info = group[0]
        announce_move(session, triage, [item[0] for item in group], decision, info,
                      reasons={item[0].id: item[1].reason for item in group})
    return sum(len(group) for group in moved.values())


def close_resolved(sessions: Callable[[], Session], triage: Triage, *, now: dt.datetime | None = None,
                   batch: int = BATCH, origin: Origin = SWEEP) -> int:
    """Close tickets resolved longer ago than the policy's auto-close days; return how many."""
    now = now or utcnow()
    after = triage.policy.auto_close
    cutoff = now - after
    total, last_id = 0, 0
    while True:
        with sessions() as session, session.begin():
            rows = _claim(session, select(Ticket.id, Ticket.resolved_at)
                          .where(Ticket.status == "resolved", Ticket.resolved_at <= cutoff, Ticket.id > last_id)
                          .order_by(Ticket.id).limit(batch))
            tickets = list(session.scalars(select(Ticket).where(Ticket.id.in_([row[0] for row in rows]))))
            for ticket in tickets:
                if ticket.status != "resolved" or ticket.resolved_at is None or ticket.resolved_at > cutoff:
                    continue
                ticket.status, ticket.closed_at = "closed", now
                record_change(session, ticket, "closed", actor=None, origin=origin, now=now, public=True,
                              reason=f"closed {after.days} days after it was resolved, without an answer from "
                                     "the reporter")
                total += 1
                close_if_done(session, ticket, now)
            session.flush()
        if len(rows) < batch:
            return total
        last_id = rows[-1][0]
