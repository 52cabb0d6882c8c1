"""Background sweeps: escalate overdue tier-1 tickets, close resolved tickets; idempotent, safe side by side.

Each batch is its own transaction. PostgreSQL workers skip the rows another worker has locked
(FOR UPDATE SKIP LOCKED); on SQLite every write transaction is BEGIN IMMEDIATE, so batches run one at a time.
Each batch re-reads its rows inside its transaction, so a ticket another worker escalated is never chosen
again; every escalation bumps the ticket's version, so an edit based on the old one gets a conflict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVarTuple

from sqlalchemy import Select, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from helpdesk.audit.services import Origin
from helpdesk.orm import utcnow
from helpdesk.tickets.agencies import AgencyDirectory
from helpdesk.tickets.context import Triage
from helpdesk.tickets.escalation.deciding import BusinessClock, Decisions
from helpdesk.tickets.escalation.overdue import EscalationWriter
from helpdesk.tickets.history import record_change
from helpdesk.tickets.incidents import close_if_done
from helpdesk.tickets.models import Ticket
from helpdesk.triage.policy import Cause, Tier

_Ts = TypeVarTuple("_Ts")  # the column types of a query a helper narrows and hands back

#: Statuses whose SLA clock runs: a pending ticket waits for its reporter and is not escalated.
RUNNING = ("new", "open")
#: Escalations per transaction. On SQLite, larger batches rewrite the index pages every batch touches fewer times
#: (CPU of a sweep of 100,000: 8.6-9.1 s at 10,000, 5.8-6.9 s at 25,000, 5.4 s at 100,000; PostgreSQL alike at
#: 10,000 and 25,000), but a batch holds SQLite's write lock throughout: other writers wait for it.
BATCH = 25_000
#: Closures per transaction: each is a loaded ticket and an IN list of ids (SQLite allows 32,766 parameters).
CLOSE_BATCH = 10_000
SWEEP = Origin(ip=None, user_agent="helpdesk sweep")
_CANDIDATE = (
    Ticket.id,
    Ticket.created_at,
    Ticket.first_responded_at.is_(None).label("unanswered"),
    Ticket.category,
    Ticket.agency_id,
    Ticket.state_code,
    Ticket.subject,
)


def _claim(session: Session, query: Select[*_Ts]) -> list[Row[*_Ts]]:
    """Return the candidate rows, locked for this transaction on PostgreSQL (others skip them)."""
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    # Core rows: the ORM's per-row loading is not needed for plain columns.
    return list(session.connection().execute(query).all())


def escalate_overdue(
    sessions: Callable[[], Session],
    triage: Triage,
    *,
    now: dt.datetime | None = None,
    batch: int = BATCH,
    origin: Origin = SWEEP,
) -> int:
    """Escalate tier-1 tickets past a first-response or resolution target (rules in routing.yml); return how many.

    One indexed query (status, tier, first_response_due) lists the candidates: a resolution target is never
    shorter than the first-response one, so every overdue ticket is past its first-response due time. They are
    then taken in id order, `batch` at a time (nearby rows share pages), re-read and locked by primary key, and
    written set-based.
    """
    now = now or utcnow()
    policy = triage.policy
    target, directory, clock = policy.targets[Tier.LOCAL_IT], AgencyDirectory(), BusinessClock(policy, now)
    running = (Ticket.status.in_(RUNNING), Ticket.tier == Tier.LOCAL_IT.value, Ticket.first_response_due <= now)
    with sessions() as session, session.begin():
        candidates = sorted(session.scalars(select(Ticket.id).where(*running)))
    total = 0
    # Per agency, category and cause: the decision and its reason, for the whole pass.
    decisions: Decisions = {}
    for start in range(0, len(candidates), batch):
        first, last = candidates[start], candidates[min(start + batch, len(candidates)) - 1]
        with sessions() as session, session.begin():
            # Re-read in this transaction: a ticket another worker escalated meanwhile no longer matches. The
            # batch's stretch of ids, not a list of them: one range of the primary key, two parameters.
            rows = _claim(
                session,
                select(*_CANDIDATE).where(Ticket.id.between(first, last), *running).order_by(Ticket.id),
            )
            directory.load(session, {row.agency_id for row in rows})
            writer = EscalationWriter(session, triage, now, origin, decisions)
            for row in rows:
                info = directory[row.agency_id]
                elapsed = clock.elapsed(info.time_zone, row.created_at)
                # As sla.overdue_milestones: strictly more than allowed, first response first.
                if row.unanswered and elapsed > target.first_response:
                    writer.add(row, info, Cause.OVERDUE_FIRST_RESPONSE, elapsed)
                elif elapsed > target.resolution:
                    writer.add(row, info, Cause.OVERDUE_RESOLUTION, elapsed)
            total += writer.write()
    return total


def close_resolved(
    sessions: Callable[[], Session],
    triage: Triage,
    *,
    now: dt.datetime | None = None,
    batch: int = CLOSE_BATCH,
    origin: Origin = SWEEP,
) -> int:
    """Close tickets resolved longer ago than the policy's auto-close days; return how many."""
    now = now or utcnow()
    after = triage.policy.auto_close
    cutoff = now - after
    total, last_id = 0, 0
    while True:
        with sessions() as session, session.begin():
            rows = _claim(
                session,
                select(Ticket.id, Ticket.version)
                .where(Ticket.status == "resolved", Ticket.resolved_at <= cutoff, Ticket.id > last_id)
                .order_by(Ticket.id)
                .limit(batch),
            )
            tickets = session.scalars(select(Ticket).where(Ticket.id.in_([row.id for row in rows]))).all()
            for ticket in tickets:
                ticket.status, ticket.closed_at = "closed", now
                record_change(
                    session,
                    ticket,
                    "closed",
                    actor=None,
                    origin=origin,
                    now=now,
                    public=True,
                    reason=f"closed {after.days} days after it was resolved, without an answer from the reporter",
                )
                total += 1
                close_if_done(session, ticket, now)
            session.flush()
        if len(rows) < batch:
            return total
        last_id = rows[-1].id
