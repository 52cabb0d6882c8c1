"""The overdue sweep's batches: decided outside the write lock, written only if nothing changed meanwhile."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from helpdesk.audit.models import AuditEvent
from helpdesk.tickets.context import Triage
from helpdesk.tickets.escalation.overdue import EscalationWriter
from helpdesk.tickets.escalation.sweep import escalate_overdue
from helpdesk.tickets.models import Ticket, TicketEvent
from helpdesk.tickets.submit import Submission
from tests.tickets.conftest import Org

#: Thursday 12 March 2026, 12:00 in Texas (CDT, UTC-5): the requests filed on Tuesday are overdue.
LATE = dt.datetime(2026, 3, 12, 17, 0, tzinfo=dt.UTC)


def _escalated(session: Session) -> dict[int, int]:
    """Return how many "escalated" history rows each ticket has."""
    rows = session.execute(
        select(TicketEvent.ticket_id, func.count())
        .where(TicketEvent.kind == "escalated")
        .group_by(TicketEvent.ticket_id)
    )
    return {ticket_id: count for ticket_id, count in rows}


@pytest.mark.db
def test_a_ticket_changed_after_its_batch_was_read_is_left_alone_and_the_rest_escalate(
    session: Session,
    org: Org,
    triage: Triage,
    sessions: sessionmaker[Session],
    submit: Callable[..., Submission],
    clock: time_machine.Traveller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = [submit(org[("ana", "ben", "dee", "olga")[n % 4]], "other").ticket.id for n in range(12)]
    session.commit()
    clock.move_to(LATE)
    write, changed = EscalationWriter.write, ids[5]

    def change_then_write(writer: EscalationWriter, writing: Session) -> int:
        # Someone puts a request of the batch on hold between the batch's read and its write (once).
        if writer and not monkeypatch_done:
            monkeypatch_done.append(True)
            with sessions() as other, other.begin():
                other.get_one(Ticket, changed).status = "pending"
        return write(writer, writing)

    monkeypatch_done: list[bool] = []
    monkeypatch.setattr(EscalationWriter, "write", change_then_write)
    assert escalate_overdue(sessions, triage) == 11
    session.expire_all()
    held = session.get_one(Ticket, changed)
    assert held.tier == "local_it" and held.status == "pending" and held.escalated_at is None
    assert _escalated(session) == {ticket_id: 1 for ticket_id in ids if ticket_id != changed}
    audited = session.scalars(select(AuditEvent.target_id).where(AuditEvent.action == "ticket_escalated")).all()
    assert sorted(int(target or 0) for target in audited) == sorted(set(ids) - {changed})
    assert all(session.get_one(Ticket, i).tier == "compact_office" for i in ids if i != changed)


def test_deciding_a_batch_does_not_hold_sqlites_write_lock(
    session: Session,
    org: Org,
    triage: Triage,
    sessions: sessionmaker[Session],
    submit: Callable[..., Submission],
    clock: time_machine.Traveller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for number in range(6):
        submit(org[("ana", "ben")[number % 2]], "other")
    session.commit()
    session.close()
    clock.move_to(LATE)
    path = sessions.kw["bind"].url.database
    add, writes_meanwhile = EscalationWriter.add, []

    def add_while_another_writes(writer: EscalationWriter, *args: Any) -> None:
        # Another worker files something while the sweep decides: it must get the lock at once (timeout 0).
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            writes_meanwhile.append("written")
        except sqlite3.OperationalError as exc:
            writes_meanwhile.append(str(exc))
        finally:
            other.close()
        add(writer, *args)

    monkeypatch.setattr(EscalationWriter, "add", add_while_another_writes)
    assert escalate_overdue(sessions, triage) == 6  # one batch: no batch of its own is being written meanwhile
    assert writes_meanwhile == ["written"] * 6
