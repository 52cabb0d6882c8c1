"""The set-based sweep (decisions cached for the pass, batches) equals the reference applied ticket by ticket,
and its writer equals move_ticket + record_change + record_event (its SQL twin)."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from helpdesk.audit.models import AuditEvent
from helpdesk.tickets.agencies import AgencyDirectory, agency_info
from helpdesk.tickets.context import Triage
from helpdesk.tickets.escalation.escalate import move_ticket, set_due_times
from helpdesk.tickets.escalation.overdue import EscalationWriter
from helpdesk.tickets.escalation.sweep import _CANDIDATE, SWEEP, escalate_overdue
from helpdesk.tickets.models import Ticket, TicketEvent
from helpdesk.tickets.notifications import responders
from helpdesk.tickets.submit import Submission
from helpdesk.tickets.workflow import reply_ticket
from helpdesk.triage.policy import Cause, Tier
from helpdesk.triage.routing import escalation_decision
from helpdesk.triage.sla import overdue_milestones
from tests.tickets.conftest import ORIGIN, Org, events, mails

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI
#: Reporters at agencies with local IT (Travis, Tulsa) and without (Hays, Bernalillo), with their local IT.
REPORTERS = [("ana", "pat"), ("ben", "pat"), ("dee", "pat"), ("olga", "otto"), ("hal", None), ("nina", None)]
CATEGORIES = ["other", "login", "error", "slow", "access"]


def _reference(session: Session, triage: Triage, ticket: Ticket, now: dt.datetime) -> dict[str, Any] | None:
    """Return what escalation.move_ticket would write for one ticket, decided as sla.overdue_milestones says."""
    if ticket.status not in ("new", "open") or ticket.tier != Tier.LOCAL_IT.value:
        return None
    policy, info = triage.policy, agency_info(session, ticket.agency)
    late = overdue_milestones(
        ticket.created_at,
        now,
        policy.targets[Tier.LOCAL_IT],
        policy.calendar(info.time_zone),
        first_response_at=ticket.first_responded_at,
    )
    if not late:
        return None
    cause = Cause.OVERDUE_FIRST_RESPONSE if late[0].milestone == "first_response" else Cause.OVERDUE_RESOLUTION
    decision = escalation_decision(
        policy, category=ticket.category, tier=Tier.LOCAL_IT, agency=info, cause=cause, elapsed=late[0].elapsed
    )
    if decision is None:
        return None
    moved = SimpleNamespace(tier=decision.tier.value)
    set_due_times(moved, policy, info.time_zone, now)  # type: ignore[arg-type]
    return {
        "tier": decision.tier.value,
        "assignee_id": decision.assignee.id if decision.assignee else None,
        "route_reason": decision.reason,
        "first_response_due": moved.first_response_due,
        "resolution_due": moved.resolution_due,
        "escalated_at": now,
        "updated_at": now,
        "version": ticket.version + 1,
        "recipients": set(responders(info, decision.tier, decision.assignee)),
    }


@pytest.mark.parametrize("seed", range(4))
def test_the_sweep_equals_the_reference_ticket_by_ticket(
    seed: int,
    session: Session,
    org: Org,
    triage: Triage,
    sessions: sessionmaker[Session],
    submit: Callable[..., Submission],
    clock: time_machine.Traveller,
) -> None:
    rng = random.Random(seed)
    tickets = []
    for _ in range(30):
        clock.shift(dt.timedelta(minutes=rng.randrange(0, 600)))
        reporter, local_it = rng.choice(REPORTERS)
        ticket = submit(org[reporter], rng.choice(CATEGORIES)).ticket
        if local_it and ticket.tier == Tier.LOCAL_IT.value and rng.random() < 0.4:  # answered, maybe pending
            reply_ticket(
                session,
                triage,
                ticket,
                actor=org[local_it],
                body="Looking into it.",
                status=rng.choice(["open", "pending"]),
                expected_version=ticket.version,
                origin=ORIGIN,
            )
        tickets.append(ticket)
    session.commit()
    clock.shift(dt.timedelta(hours=rng.randrange(1, 80)))
    now = dt.datetime.now(dt.UTC)
    expected = {ticket.id: _reference(session, triage, ticket, now) for ticket in tickets}
    before = {ticket.id: (ticket.tier, ticket.version, ticket.route_reason) for ticket in tickets}
    session.commit()  # the sweep's sessions write: this one holds no transaction meanwhile
    assert any(expected.values()) and not all(expected.values())  # the seeds exercise both outcomes
    assert escalate_overdue(sessions, triage, batch=7) == sum(1 for e in expected.values() if e)
    assert escalate_overdue(sessions, triage, batch=7) == 0  # idempotent
    session.expire_all()
    sent = mails(session, "ticket_escalated")
    for ticket in tickets:
        want = expected[ticket.id]
        audits = list(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "ticket_escalated", AuditEvent.target_id == str(ticket.id)
                )
            )
        )
        escalated = events(session, ticket, "escalated")
        if want is None:
            assert (ticket.tier, ticket.version, ticket.route_reason) == before[ticket.id]
            assert not escalated and not audits
            continue
        got = {key: getattr(ticket, key) for key in want if key != "recipients"}
        assert got == {key: value for key, value in want.items() if key != "recipients"}, ticket.id
        [event] = escalated
        assert (event.actor_id, event.public, event.reason, event.created_at) == (None, True, want["route_reason"], now)
        [audit] = audits
        assert (audit.actor_id, audit.actor_email, audit.detail, audit.state_code, audit.user_agent) == (
            None,
            "system",
            want["route_reason"],
            ticket.state_code,
            "helpdesk sweep",
        )
        told = {m.recipient for m in sent if re.search(rf"/requests/{ticket.id}\b", m.body_text)}
        assert told == want["recipients"], ticket.id


OVERDUE = [Cause.OVERDUE_FIRST_RESPONSE, Cause.OVERDUE_RESOLUTION]
SPECS = st.lists(
    st.tuples(
        st.sampled_from([name for name, _ in REPORTERS]),
        st.sampled_from(CATEGORIES),
        st.sampled_from(OVERDUE),
        st.timedeltas(min_value=dt.timedelta(seconds=1), max_value=dt.timedelta(days=20)),
    ),
    min_size=1,
    max_size=6,
)


def _written(session: Session, ids: list[int], audit_after: int) -> dict[str, Any]:
    """Return the tickets' rows, their history rows and the audit rows after `audit_after`, ids left out."""
    ticket, event, audit = Ticket.__table__, TicketEvent.__table__, AuditEvent.__table__
    return {
        "tickets": [
            row._asdict() for row in session.execute(select(ticket).where(ticket.c.id.in_(ids)).order_by(ticket.c.id))
        ],
        "events": sorted(
            (
                tuple(row)
                for row in session.execute(
                    select(*(c for c in event.c if c.name != "id")).where(event.c.ticket_id.in_(ids))
                )
            ),
            key=repr,
        ),
        "audit": sorted(
            (
                tuple(row)
                for row in session.execute(
                    select(*(c for c in audit.c if c.name != "id")).where(audit.c.id > audit_after)
                )
            ),
            key=repr,
        ),
    }


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(specs=SPECS, seconds=st.integers(min_value=0, max_value=30 * 86_400))
def test_the_set_based_writer_writes_what_move_ticket_writes_one_ticket_at_a_time(
    specs: list[tuple[str, str, Cause, dt.timedelta]],
    seconds: int,
    session: Session,
    org: Org,
    triage: Triage,
    submit: Callable[..., Submission],
    clock: time_machine.Traveller,
) -> None:
    """EscalationWriter (temporary tables, INSERT ... SELECT, one UPDATE per batch) is the SQL twin of move_ticket +
    record_change + record_event: the same ticket columns, history rows and audit rows, for any mix of tickets."""
    policy, target = triage.policy, triage.policy.targets[Tier.LOCAL_IT]
    tickets = [submit(org[reporter], category).ticket for reporter, category, _, _ in specs]
    session.flush()
    # Both write at the sweep's `now`: record_event stamps the audit row with the clock, the writer with `now`.
    clock.shift(dt.timedelta(seconds=seconds))
    now = dt.datetime.now(dt.UTC)
    ids = [ticket.id for ticket in tickets]
    audit_after = session.scalar(select(func.max(AuditEvent.id))) or 0
    directory = AgencyDirectory()
    directory.load(session, {ticket.agency_id for ticket in tickets})
    # The overdue causes need more business time than the target they name.
    late = {
        ticket.id: (
            cause,
            extra + (target.first_response if cause is Cause.OVERDUE_FIRST_RESPONSE else target.resolution),
        )
        for ticket, (_, _, cause, extra) in zip(tickets, specs, strict=True)
    }

    reference = session.begin_nested()
    for ticket in tickets:
        info = directory[ticket.agency_id]
        cause, elapsed = late[ticket.id]
        decision = escalation_decision(
            policy, category=ticket.category, tier=Tier.LOCAL_IT, agency=info, cause=cause, elapsed=elapsed
        )
        if decision is not None:
            move_ticket(session, policy, ticket, decision, actor=None, origin=SWEEP, now=now, time_zone=info.time_zone)
    session.flush()
    one_by_one = _written(session, ids, audit_after)
    reference.rollback()
    session.expire_all()

    twin = session.begin_nested()
    rows = session.execute(select(*_CANDIDATE).where(Ticket.id.in_(ids)).order_by(Ticket.id)).all()
    writer = EscalationWriter(triage, now, SWEEP)
    for row in reversed(rows):  # the writer orders its rows itself
        writer.add(row, directory[row.agency_id], *late[row.id])
    moved = writer.write(session)
    session.expire_all()
    set_based = _written(session, ids, audit_after)
    twin.rollback()
    session.rollback()

    assert moved == sum(1 for row in one_by_one["tickets"] if row["escalated_at"] is not None)
    assert set_based == one_by_one
