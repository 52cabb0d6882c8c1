"""Background sweeps: escalate overdue tier-1 tickets, close resolved tickets; idempotent, safe side by side.

Each batch writes in its own transaction, and moves only tickets still at the version it read: a ticket another
worker escalated (or anyone changed) since is never moved on a stale decision; the batch is then redone read under
the lock (PostgreSQL workers skip rows another has locked: FOR UPDATE SKIP LOCKED; SQLite writes one transaction at
a time). Every escalation bumps the ticket's version, so an edit based on the old one gets a conflict.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import TypeVarTuple

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from helpdesk.audit.services import Origin
from helpdesk.orm import reading, utcnow
from helpdesk.tickets.agencies import AgencyDirectory
from helpdesk.tickets.context import Triage
from helpdesk.tickets.errors import TicketConflict
from helpdesk.tickets.escalation.deciding import BusinessClock, Decisions
from helpdesk.tickets.escalation.overdue import EscalationWriter
from helpdesk.tickets.history import record_change
from helpdesk.tickets.incidents import close_if_done
from helpdesk.tickets.models import Ticket
from helpdesk.triage.policy import Cause, Tier

_Ts = TypeVarTuple("_Ts")  # the column types of a query a helper narrows and hands back

#: Statuses whose SLA clock runs: a pending ticket waits for its reporter and is not escalated.
RUNNING = ("new", "open")
#: Escalations per transaction on PostgreSQL, where two batches are written at once: smaller ones keep both writers
#: busy (a sweep of 100,000, 2 alternating runs each: 4.6-4.8 s at 12,500, 4.8-4.9 s at 25,000, 4.8-5.1 s at 50,000).
BATCH = 12_500
#: On SQLite, which writes one transaction at a time, every batch rewrites the index pages it touches, so fewer are
#: cheaper (100,000: 5.3-5.4 s at 25,000, 5.1 s at 50,000, 4.6 s at 100,000). The price: a batch holds the write lock
#: for its SQL (about 4 s at 100,000, once per backlog of that size); readers never wait for it (WAL, deferred reads).
SQLITE_BATCH = 100_000
#: Batches in flight at once: one is read and decided while another is written. On PostgreSQL two batches also
#: write at once (disjoint stretches of ids, each on its own connection and server process).
WRITERS = 2
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
    Ticket.version,
)


def _running(now: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    """Return the conditions of a ticket the sweep escalates: open, at tier 1, past its first-response due time."""
    return (Ticket.status.in_(RUNNING), Ticket.tier == Tier.LOCAL_IT.value, Ticket.first_response_due <= now)


def _claim(session: Session, query: Select[*_Ts], *, lock: bool = True) -> list[Row[*_Ts]]:
    """Return the candidate rows, locked for this transaction on PostgreSQL (others skip them) when `lock`."""
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    # Core rows: the ORM's per-row loading is not needed for plain columns.
    return list(session.connection().execute(query).all())


def escalate_overdue(
    sessions: Callable[[], Session],
    triage: Triage,
    *,
    now: dt.datetime | None = None,
    batch: int | None = None,
    origin: Origin = SWEEP,
) -> int:
    """Escalate tier-1 tickets past a first-response or resolution target (rules in routing.yml); return how many.

    One indexed query (status, tier, first_response_due) lists the candidates: a resolution target is never
    shorter than the first-response one, so every overdue ticket is past its first-response due time. They are
    then taken in id order, `batch` at a time (nearby rows share pages; by default BATCH, SQLITE_BATCH on SQLite),
    and WRITERS batches at once (_Pass).
    """
    now = now or utcnow()
    with reading(sessions) as session:
        candidates = sorted(session.scalars(select(Ticket.id).where(*_running(now))))
        sqlite = session.get_bind().dialect.name == "sqlite"
    batch = batch or (SQLITE_BATCH if sqlite else BATCH)
    sweep = _Pass(sessions, triage, now, origin, sqlite=sqlite)
    bounds = [
        (candidates[start], candidates[min(start + batch, len(candidates)) - 1])
        for start in range(0, len(candidates), batch)
    ]
    if len(bounds) <= 1:
        return sum(map(sweep.escalate, bounds))
    with ThreadPoolExecutor(WRITERS, thread_name_prefix="escalate") as pool:
        return sum(pool.map(sweep.escalate, bounds))


class _Pass:
    """One pass of the overdue sweep: what its batches share (decisions, agencies, business clock)."""

    def __init__(
        self, sessions: Callable[[], Session], triage: Triage, now: dt.datetime, origin: Origin, *, sqlite: bool
    ) -> None:
        self._sessions, self._triage, self._now, self._origin = sessions, triage, now, origin
        self._target = triage.policy.targets[Tier.LOCAL_IT]
        self._clock = BusinessClock(triage.policy, now)
        self._directory, self._reading = AgencyDirectory(), threading.Lock()
        # Per agency, category and cause: the decision and its reason, for the whole pass.
        self._decisions: Decisions = {}
        self._where = _running(now)
        # SQLite writes one transaction at a time: an in-process turn wakes the next batch as soon as this one
        # commits (busy_timeout's waits back off up to 100 ms).
        self._turn: AbstractContextManager[object] = threading.Lock() if sqlite else nullcontext()

    def escalate(self, bounds: tuple[int, int]) -> int:
        """Escalate the overdue tickets of one stretch of ids; return how many.

        The batch is read and decided outside any write lock (a deferred read on SQLite), so that one batch is
        decided while another is written; its UPDATE moves only tickets still at the version read. When one
        changed meanwhile, the batch is rolled back and done again, read under the lock (FOR UPDATE on PostgreSQL).
        """
        with reading(self._sessions) as session:
            plan = self._plan(session, bounds, lock=False)
        if not plan:
            return 0
        try:
            with self._turn, self._sessions() as session, session.begin():
                return plan.write(session)
        except TicketConflict:
            with self._turn, self._sessions() as session, session.begin():
                return self._plan(session, bounds, lock=True).write(session)

    def _plan(self, session: Session, bounds: tuple[int, int], *, lock: bool) -> EscalationWriter:
        """Read a stretch's overdue tickets and decide their escalations."""
        # Re-read: a ticket another worker escalated since the candidates were listed no longer matches. The
        # batch's stretch of ids, not a list of them: one range of the primary key, two parameters.
        query = select(*_CANDIDATE).where(Ticket.id.between(*bounds), *self._where).order_by(Ticket.id)
        rows = _claim(session, query, lock=lock)
        with self._reading:  # the batches' threads share the directory
            self._directory.load(session, {row.agency_id for row in rows})
        writer = EscalationWriter(self._triage, self._now, self._origin, self._decisions)
        target, clock = self._target, self._clock
        for row in rows:
            info = self._directory[row.agency_id]
            elapsed = clock.elapsed(info.time_zone, row.created_at)
            # As sla.overdue_milestones: strictly more than allowed, first response first.
            if row.unanswered and elapsed > target.first_response:
                writer.add(row, info, Cause.OVERDUE_FIRST_RESPONSE, elapsed)
            elif elapsed > target.resolution:
                writer.add(row, info, Cause.OVERDUE_RESOLUTION, elapsed)
        return writer


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
