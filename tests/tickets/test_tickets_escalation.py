"""Escalation by hand and by the overdue sweep (controlled clock), auto-close, and the `escalate`/`triage` commands."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable

import pytest
import time_machine
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from helpdesk.tickets.context import Triage
from helpdesk.tickets.errors import TicketError
from helpdesk.tickets.escalation.escalate import escalate_ticket
from helpdesk.tickets.escalation.sweep import close_resolved, escalate_overdue
from helpdesk.tickets.models import Incident, Ticket, TicketEvent
from helpdesk.tickets.submit import Submission
from helpdesk.tickets.workflow import reply_ticket, resolve_ticket
from tests.tickets.conftest import ORIGIN, Org, events, mails

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI
CHECKED = "Ruled out local causes: other PCs log in fine, cache cleared, network OK."


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """Return a time of March 2026 in Texas (CDT, UTC-5) as UTC."""
    return dt.datetime(2026, 3, day, hour + 5, minute, tzinfo=dt.UTC)


def test_local_it_escalates_after_ruling_out_local_causes(
    session: Session, org: Org, triage: Triage, submit: Callable[..., Submission], clock: time_machine.Traveller
) -> None:
    ticket = submit(org["ana"], "error").ticket
    with pytest.raises(PermissionError):
        escalate_ticket(session, triage, ticket, actor=org["ana"], expected_version=1, checked=CHECKED, origin=ORIGIN)
    with pytest.raises(TicketError, match="what you checked"):
        escalate_ticket(
            session,
            triage,
            ticket,
            actor=org["pat"],
            expected_version=1,
            checked="  ok ",
            origin=ORIGIN,
            ruled_out=True,
        )
    clock.move_to(_at(10, 16))  # Tuesday 16:00: one business hour left today
    decision = escalate_ticket(
        session, triage, ticket, actor=org["pat"], expected_version=1, checked=CHECKED, origin=ORIGIN, ruled_out=True
    )
    assert ticket.tier == "compact_office" and ticket.assignee_id is None and ticket.escalated_at == _at(10, 16)
    assert decision.reason.startswith("escalated from tier 1 (local IT) to the Texas compact office: ")
    assert "local causes at Travis County Probation were ruled out" in decision.reason
    assert ticket.route_reason == decision.reason
    assert ticket.first_response_due == _at(11, 15)  # tier 2: 8 business hours, from when it reached tier 2
    [event] = events(session, ticket, "escalated")
    assert event.public and event.body == CHECKED and event.actor_id == org.users["pat"]
    assert {m.recipient for m in mails(session, "ticket_escalated")} == {"robin@tx.example.gov", "kim@tx.example.gov"}
    [moved] = mails(session, "ticket_moved")
    assert moved.recipient == "ana@tx.example.gov" and f"/requests/{ticket.id}" in moved.body_text
    with pytest.raises(PermissionError):  # local IT does not escalate a tier-2 ticket further
        escalate_ticket(
            session, triage, ticket, actor=org["pat"], expected_version=ticket.version, checked=CHECKED, origin=ORIGIN
        )

    escalate_ticket(
        session,
        triage,
        ticket,
        actor=org["robin"],
        expected_version=ticket.version,
        checked="Same error reported by Oklahoma; ICOTS itself fails.",
        origin=ORIGIN,
    )
    assert ticket.tier == "national" and ticket.incident_id is not None
    incident = session.get(Incident, ticket.incident_id)
    assert incident is not None and incident.scope == "system" and incident.category == "error"
    assert "noor@us.example.gov" in {m.recipient for m in mails(session, "ticket_escalated")}
    with pytest.raises(PermissionError):  # the national office is the last tier
        escalate_ticket(
            session, triage, ticket, actor=org["noor"], expected_version=ticket.version, checked=CHECKED, origin=ORIGIN
        )


def test_the_sweep_escalates_at_the_first_response_target(
    session: Session,
    org: Org,
    triage: Triage,
    sessions: sessionmaker[Session],
    submit: Callable[..., Submission],
    clock: time_machine.Traveller,
) -> None:
    ticket_id = submit(org["ana"], "other").ticket.id  # Tuesday 10:00; first response due 14:00
    session.commit()
    for moment, expected in [(_at(10, 13, 59), 0), (_at(10, 14), 0), (_at(10, 14, 1), 1), (_at(10, 18), 0)]:
        clock.move_to(moment)
        assert escalate_overdue(sessions, triage) == expected, moment
    session.expire_all()
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None and ticket.tier == "compact_office" and ticket.escalated_at == _at(10, 14, 1)
    [event] = events(session, ticket, "escalated")
    assert event.actor_id is None and event.reason is not None
    assert (
        "no first response within the tier-1 target of 4 business hours (4.017 business hours elapsed)" in event.reason
    )
    assert {m.recipient for m in mails(session, "ticket_escalated")} == {"robin@tx.example.gov", "kim@tx.example.gov"}


def test_the_sweep_escalates_an_answered_ticket_at_the_resolution_target(
    session: Session,
    org: Org,
    triage: Triage,
    sessions: sessionmaker[Session],
    submit: Callable[..., Submission],
    clock: time_machine.Traveller,
) -> None:
    answered = submit(org["ana"], "other").ticket
    waiting = submit(org["ben"], "other").ticket
    clock.move_to(_at(10, 11))
    for ticket in (answered, waiting):
        reply_ticket(
            session,
            triage,
            ticket,
            actor=org["pat"],
            body="Looking into it.",
            expected_version=ticket.version,
            origin=ORIGIN,
        )
    reply_ticket(
        session,
        triage,
        waiting,
        actor=org["pat"],
        body="Which page fails?",
        status="pending",
        expected_version=waiting.version,
        origin=ORIGIN,
    )
    session.commit()
    clock.move_to(_at(11, 17))  # Wednesday 17:00: exactly 16 business hours, not late yet
    assert escalate_overdue(sessions, triage) == 0
    clock.move_to(_at(12, 8, 30))  # Thursday 08:30
    assert escalate_overdue(sessions, triage) == 1
    session.expire_all()
    assert (answered.tier, waiting.tier) == ("compact_office", "local_it")  # pending waits for the reporter
    assert "not resolved within the tier-1 target of 16 business hours" in answered.route_reason


def test_the_clock_stops_outside_business_hours(
    session: Session,
    org: Org,
    triage: Triage,
    sessions: sessionmaker[Session],
    submit: Callable[..., Submission],
    clock: time_machine.Traveller,
) -> None:
    clock.move_to(_at(13, 16))  # Friday 16:00: one business hour, then Monday from 08:00
    ticket = submit(org["ana"], "other").ticket
    assert ticket.first_response_due == _at(16, 11)
    session.commit()
    clock.move_to(_at(15, 12))  # Sunday noon
    assert escalate_overdue(sessions, triage) == 0
    clock.move_to(_at(16, 11, 1))
    assert escalate_overdue(sessions, triage) == 1


def test_a_sweep_mails_each_receiving_queue_once(
    session: Session,
    org: Org,
    triage: Triage,
    sessions: sessionmaker[Session],
    submit: Callable[..., Submission],
    clock: time_machine.Traveller,
) -> None:
    tickets = [submit(org[name], "other").ticket for name in ("ana", "ben", "dee", "olga")]
    tier2 = submit(org["ana"], "access").ticket  # tier 2 overdue: flagged, never moved by the sweep
    session.commit()
    clock.move_to(_at(12, 12))
    assert escalate_overdue(sessions, triage, batch=2) == 4
    session.expire_all()
    assert tier2.tier == "compact_office" and tier2.escalated_at is None
    digest = [m for m in mails(session, "ticket_escalated") if m.recipient == "robin@tx.example.gov"]
    assert len(digest) <= 2 and sum(m.body_text.count("/requests/") for m in digest) == 3  # batches of 2
    assert {m.recipient for m in mails(session, "ticket_escalated")} >= {"oscar@ok.example.gov"}
    assert all(t.tier == "compact_office" for t in tickets)


def test_a_long_escalation_mail_lists_the_first_requests_and_counts_the_rest(
    session: Session,
    org: Org,
    triage: Triage,
    sessions: sessionmaker[Session],
    submit: Callable[..., Submission],
    clock: time_machine.Traveller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from helpdesk.tickets import notifications

    monkeypatch.setattr(notifications, "MAX_LISTED", 2)
    for name in ("ana", "ben", "dee"):
        submit(org[name], "other")
    session.commit()
    clock.move_to(_at(12, 12))
    assert escalate_overdue(sessions, triage) == 3
    [digest] = [m for m in mails(session, "ticket_escalated") if m.recipient == "kim@tx.example.gov"]
    assert digest.subject == "3 requests were escalated to the Texas compact office"
    assert digest.body_text.count("/requests/") == 2 and "... and 1 more: they are in your queue" in digest.body_text


def test_two_sweeps_at_once_escalate_each_ticket_once(
    session: Session,
    org: Org,
    triage: Triage,
    sessions: sessionmaker[Session],
    submit: Callable[..., Submission],
    clock: time_machine.Traveller,
) -> None:
    for number in range(60):
        submit(org[("ana", "ben", "dee", "olga")[number % 4]], "other")
    session.commit()
    clock.move_to(_at(12, 12))
    start, counts, errors = threading.Barrier(2), Counter[int](), []

    def run(worker: int) -> None:
        try:
            start.wait()
            counts[worker] += escalate_overdue(sessions, triage, batch=7)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert sum(counts.values()) == 60
    per_ticket = session.execute(
        select(TicketEvent.ticket_id, func.count())
        .where(TicketEvent.kind == "escalated")
        .group_by(TicketEvent.ticket_id)
    ).all()
    assert len(per_ticket) == 60 and {count for _, count in per_ticket} == {1}
    session.rollback()  # SQLite: a reading session holds the write lock (BEGIN IMMEDIATE) until it ends
    assert escalate_overdue(sessions, triage) == 0


def test_resolved_tickets_close_after_seven_days_unless_the_reporter_answers(
    session: Session,
    org: Org,
    triage: Triage,
    sessions: sessionmaker[Session],
    submit: Callable[..., Submission],
    clock: time_machine.Traveller,
) -> None:
    quiet, answered = submit(org["ana"], "other").ticket, submit(org["ben"], "other").ticket
    for ticket in (quiet, answered):
        resolve_ticket(
            session,
            triage,
            ticket,
            actor=org["pat"],
            resolution="Cleared the cache.",
            expected_version=ticket.version,
            origin=ORIGIN,
        )
    session.commit()
    clock.shift(dt.timedelta(days=3))
    reply_ticket(
        session, triage, answered, actor=org["ben"], body="Not fixed.", expected_version=answered.version, origin=ORIGIN
    )
    session.commit()
    clock.shift(dt.timedelta(days=4, minutes=-1))
    assert close_resolved(sessions, triage) == 0
    clock.shift(dt.timedelta(minutes=2))
    assert close_resolved(sessions, triage) == 1
    assert close_resolved(sessions, triage) == 0
    session.expire_all()
    assert (quiet.status, answered.status) == ("closed", "open") and quiet.closed_at is not None
    [event] = events(session, quiet, "closed")
    assert event.public and event.reason and "7 days after it was resolved" in event.reason


def test_the_escalate_command_runs_both_sweeps_once(
    session: Session,
    org: Org,
    triage: Triage,
    runner: FlaskCliRunner,
    submit: Callable[..., Submission],
    clock: time_machine.Traveller,
) -> None:
    submit(org["ana"], "other")
    resolved = submit(org["ben"], "other").ticket
    resolve_ticket(session, triage, resolved, actor=org["pat"], resolution="Done.", expected_version=1, origin=ORIGIN)
    session.commit()
    clock.shift(dt.timedelta(days=8))
    result = runner.invoke(args=["escalate"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "escalated 1 overdue requests; closed 1 resolved requests"
    assert runner.invoke(args=["escalate"]).output.strip() == "escalated 0 overdue requests; closed 0 resolved requests"


def test_triage_explain_prints_where_a_report_goes(org: Org, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["triage", "explain", "--category", "login", "--agency", "Travis County Probation"])
    assert result.exit_code == 0, result.output
    assert "One report goes to Local IT of Travis County Probation (tier 1)." in result.output
    assert "has 2 local IT users and the IT mailbox it-team@travis.example.gov." in result.output
    assert "/articles/" in result.output and "Answers from the knowledge base" in result.output
    hays = runner.invoke(
        args=["triage", "explain", "--category", "login", "--agency", "hays county probation", "--state", "TX"]
    )
    assert "One report goes to the Texas compact office (tier 2)" in hays.output
    unknown = runner.invoke(args=["triage", "explain", "--category", "printer", "--agency", "Travis County Probation"])
    assert unknown.exit_code == 1 and "unknown category 'printer'" in unknown.output
    nowhere = runner.invoke(args=["triage", "explain", "--category", "login", "--agency", "Nowhere"])
    assert nowhere.exit_code == 1 and "No agency is called 'Nowhere'" in nowhere.output
