"""Filing requests: routing applied end to end, incidents, notifications, validation, deflection, idempotency."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from helpdesk.accounts.models import User
from helpdesk.audit.models import AuditEvent
from helpdesk.tickets.context import Triage
from helpdesk.tickets.errors import TicketError
from helpdesk.tickets.models import Deflection, Incident, Ticket
from helpdesk.tickets.submit import Submission, record_deflection, submit_ticket
from helpdesk.triage.policy import AssigneeRule, Tier
from helpdesk.triage.routing import LOCATION_NOTICE, SYSTEM_NOTICE
from tests.tickets.conftest import ORIGIN, TRAVIS_MAILBOX, Org, events, mails, submit_together

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI

#: category -> (tier with local IT, tier without)
FIRST_TIER = {
    "login": ("local_it", "compact_office"),
    "error": ("local_it", "compact_office"),
    "slow": ("local_it", "compact_office"),
    "other": ("local_it", "compact_office"),
    "access": ("compact_office", "compact_office"),
    "privacy": ("compact_office", "compact_office"),
    "reopen": ("compact_office", "compact_office"),
}


@pytest.mark.parametrize("local_it", [True, False], ids=["travis-local-it", "hays-no-local-it"])
@pytest.mark.parametrize("category", list(FIRST_TIER))
def test_one_report_is_routed_stored_and_notified(
    session: Session, org: Org, submit: Callable[..., Submission], category: str, local_it: bool
) -> None:
    reporter = org["ana"] if local_it else org["hal"]
    result = submit(
        reporter,
        category,
        tried="Restarted the browser",
        affected="me",
        suggestions=["errors-and-technical-support#what-do-i-do", "getting-help-with-this-help-desk"],
    )
    ticket = result.ticket
    expected = FIRST_TIER[category][0 if local_it else 1]
    assert result.created and ticket.tier == expected and ticket.status == "new" and ticket.version == 1
    assert ticket.assignee_id is None and ticket.incident_id is None  # no assignee rule: the tier's queue
    assert ticket.state_code == "TX" and ticket.agency_id == reporter.agency_id
    assert ticket.suggestions_shown == "errors-and-technical-support#what-do-i-do getting-help-with-this-help-desk"
    assert ticket.route_reason.startswith("routed to ")
    if expected == "local_it":
        assert "Local IT of Travis County Probation" in ticket.route_reason
    else:
        assert "Texas compact office" in ticket.route_reason
    if not local_it and FIRST_TIER[category][0] == "local_it":
        assert "has no local IT configured, so tier 1 goes to tier 2" in ticket.route_reason
    routed = events(session, ticket, "routed")
    assert [e.reason for e in routed] == [ticket.route_reason]
    assert [e.kind for e in events(session, ticket)] == ["submitted", "routed"]
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(ticket.id))).all()
    assert sorted(actions) == ["ticket_routed", "ticket_submitted"]
    staff = {
        "local_it": {"pat@tx.example.gov", "lee@tx.example.gov", TRAVIS_MAILBOX},
        "compact_office": {"robin@tx.example.gov", "kim@tx.example.gov"},
    }[expected]
    new = mails(session, "ticket_new")
    assert {m.recipient for m in new} == staff
    assert all(f"https://help.example.org/requests/{ticket.id}" in m.body_text for m in new)
    assert "It fails." not in new[0].body_text  # case text stays behind the sign-in
    [receipt] = mails(session, "ticket_received")
    assert receipt.recipient == reporter.email and f"/requests/{ticket.id}" in receipt.body_text


@pytest.mark.parametrize("burst", [1, 2, 3, 4])
@pytest.mark.parametrize("local_it", [True, False], ids=["travis-local-it", "hays-no-local-it"])
@pytest.mark.parametrize("category", ["login", "slow", "access", "other"])
def test_bursts_by_category_agency_and_size(
    session: Session, org: Org, submit: Callable[..., Submission], category: str, local_it: bool, burst: int
) -> None:
    reporter = org["ana"] if local_it else org["hal"]
    tickets = [submit(reporter, category).ticket for _ in range(burst)]
    grouped = category in ("login", "slow") and burst >= 3
    expected_tier = FIRST_TIER[category][0 if local_it else 1]
    assert {t.tier for t in tickets} == {expected_tier}
    assert {t.assignee_id for t in tickets} == {None}
    last = tickets[-1]
    if grouped:
        assert {t.incident_id for t in tickets} == {last.incident_id} and last.incident_id is not None
        assert ("opened" if burst == 3 else "joined") in last.route_reason
    else:
        assert {t.incident_id for t in tickets} == {None}
    queue = (
        {"pat@tx.example.gov", "lee@tx.example.gov", TRAVIS_MAILBOX}
        if expected_tier == "local_it"
        else {"robin@tx.example.gov", "kim@tx.example.gov"}
    )
    incident_mails = mails(session, "ticket_incident")
    assert len(incident_mails) == (len(queue) if grouped else 0)  # one notification per incident
    assert {m.recipient for m in incident_mails} == (queue if grouped else set())
    assert len(mails(session, "ticket_new")) == len(queue) * (2 if grouped else burst)
    assert len(mails(session, "ticket_received")) == burst


def test_a_policy_rule_names_the_assignee(session: Session, org: Org, triage: Triage) -> None:
    rules = (AssigneeRule(Tier.COMPACT_OFFICE, "kim@tx.example.gov", frozenset({"privacy"}), frozenset({"TX"})),)
    named = Triage(dataclasses.replace(triage.policy, assignees=rules), triage.base_url)
    values = {"subject": "Privacy question", "description": "Who sees my data?", "origin": ORIGIN}
    result = submit_ticket(
        session, named, reporter=org["ana"], category="privacy", idempotency_key="named-1234567", **values
    )  # type: ignore[arg-type]
    assert result.ticket.assignee_id == org.users["kim"]
    assert result.ticket.route_reason.startswith("assigned to Kim Vo of the Texas compact office")
    assert [m.recipient for m in mails(session, "ticket_new")] == ["kim@tx.example.gov"]
    org["kim"].is_active = False  # a rule naming someone who left: the ticket stays in the queue, and says why
    other = submit_ticket(
        session, named, reporter=org["ben"], category="privacy", idempotency_key="named-7654321", **values
    ).ticket  # type: ignore[arg-type]
    assert other.assignee_id is None and "kim@tx.example.gov is not active" in other.route_reason


def test_due_times_are_business_hours_of_the_agency(
    session: Session, org: Org, submit: Callable[..., Submission], triage: Triage
) -> None:
    ticket = submit(org["ana"]).ticket  # Tuesday 10:00 in Texas; tier 1: 4 h first response, 16 h resolution
    assert ticket.first_response_due == dt.datetime(2026, 3, 10, 19, 0, tzinfo=dt.UTC)  # 14:00 CDT
    # 7 h left on Tuesday, 9 h on Wednesday: due at Wednesday 17:00 CDT.
    assert ticket.resolution_due == dt.datetime(2026, 3, 11, 22, 0, tzinfo=dt.UTC)


def test_a_burst_at_one_location_is_one_incident_notified_once(
    session: Session, org: Org, submit: Callable[..., Submission]
) -> None:
    first, second = submit(org["ana"]).ticket, submit(org["ben"]).ticket
    assert first.incident_id is None and second.incident_id is None
    third = submit(org["dee"])
    ticket = third.ticket
    assert third.decision is not None and third.decision.incident == "location"
    assert "3 similar reports from this office in the last 60 minutes" in ticket.route_reason
    assert "opened a location incident" in ticket.route_reason
    incident = session.get(Incident, ticket.incident_id)
    assert incident is not None and incident.scope == "location" and incident.report_count == 3
    assert {first.incident_id, second.incident_id} == {incident.id}  # the earlier reports of the window too
    for each in (first, second, ticket):
        assert [e.body for e in events(session, each, "incident")] == [LOCATION_NOTICE]
        assert all(e.public for e in events(session, each, "incident"))
    incident_mails = mails(session, "ticket_incident")
    notice = incident_mails[0]
    assert {m.recipient for m in incident_mails} == {"pat@tx.example.gov", "lee@tx.example.gov", TRAVIS_MAILBOX}
    assert all(f"/requests/{t.id}" in m.body_text for m in incident_mails for t in (first, second, ticket))
    assert "3 reports" in notice.subject

    fourth = submit(org["cy"]).ticket  # joins: the queue is not told again
    assert fourth.incident_id == incident.id and "joined the open location incident" in fourth.route_reason
    assert len(mails(session, "ticket_incident")) == 3 and incident.report_count == 4
    assert len(mails(session, "ticket_new")) == 2 * 3  # only the two reports before the burst, each to 3
    # Another category or another agency is not part of it.
    assert submit(org["sam"], "access").ticket.incident_id is None
    assert submit(org["hal"]).ticket.incident_id is None


def test_bursts_of_personal_categories_are_not_grouped(
    session: Session, org: Org, submit: Callable[..., Submission]
) -> None:
    tickets = [submit(org[name], "access").ticket for name in ("ana", "ben", "dee", "cy")]
    assert {t.incident_id for t in tickets} == {None} and {t.tier for t in tickets} == {"compact_office"}
    assert len(mails(session, "ticket_new")) == 4 * 2 and not mails(session, "ticket_incident")


def test_reports_from_three_agencies_in_two_states_are_system_wide(
    session: Session, org: Org, submit: Callable[..., Submission]
) -> None:
    texas, oklahoma = submit(org["ana"], "error").ticket, submit(org["olga"], "error").ticket
    assert (texas.tier, oklahoma.tier) == ("local_it", "local_it")
    third = submit(org["nina"], "error")  # New Mexico: 3 agencies in 3 states
    ticket = third.ticket
    assert ticket.tier == "national" and third.decision is not None and third.decision.incident == "system"
    assert "reports from 3 agencies in 3 states" in ticket.route_reason
    incident = session.get(Incident, ticket.incident_id)
    assert incident is not None and incident.scope == "system" and incident.report_count == 3
    for earlier in (texas, oklahoma):  # the earlier reports join and move up (rule system_wide)
        assert earlier.incident_id == incident.id and earlier.tier == "national" and earlier.version > 1
        assert [e.body for e in events(session, earlier, "incident")] == [SYSTEM_NOTICE]
        assert "escalated from tier 1 (local IT) to the national office" in earlier.route_reason
    assert {m.recipient for m in mails(session, "ticket_incident")} == {"noor@us.example.gov"}
    later = submit(org["hal"], "error").ticket
    assert later.tier == "national" and later.incident_id == incident.id
    assert len(mails(session, "ticket_incident")) == 1


def test_an_incident_closes_when_its_last_report_is_resolved(
    session: Session, org: Org, triage: Triage, submit: Callable[..., Submission], clock: time_machine.Traveller
) -> None:
    from helpdesk.tickets.workflow import resolve_ticket

    tickets = [submit(org[name]).ticket for name in ("ana", "ben", "dee")]
    incident = session.get(Incident, tickets[0].incident_id)
    assert incident is not None
    for ticket in tickets:
        assert incident.closed_at is None
        resolve_ticket(
            session,
            triage,
            ticket,
            actor=org["pat"],
            resolution="Fixed the proxy.",
            expected_version=ticket.version,
            origin=ORIGIN,
        )
    assert incident.closed_at is not None
    # Still a burst within the hour: a new incident opens (without the resolved reports) and is notified.
    again = submit(org["cy"]).ticket
    assert again.incident_id not in (None, incident.id) and len(mails(session, "ticket_incident")) == 2 * 3
    clock.shift(dt.timedelta(minutes=61))
    session.get(Incident, again.incident_id).closed_at = dt.datetime.now(dt.UTC)  # type: ignore[union-attr]
    assert submit(org["sam"]).ticket.incident_id is None  # after the window, a report is on its own again


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"category": "printer"}, "unknown category 'printer'"),
        ({"subject": "  "}, "subject of 3 to 200"),
        ({"description": ""}, "Describe the problem"),
        ({"affected": "everyone"}, "Say who is affected"),
        ({"idempotency_key": "short"}, "form has expired"),
        ({"suggestions": ["<script>"]}, "article slugs"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_written(
    session: Session, org: Org, triage: Triage, fields: dict[str, object], message: str
) -> None:
    values: dict[str, object] = {
        "category": "login",
        "subject": "Login fails",
        "description": "It fails.",
        "idempotency_key": "k" * 32,
        **fields,
    }
    with pytest.raises(TicketError, match=message):
        submit_ticket(session, triage, reporter=org["ana"], origin=ORIGIN, **values)  # type: ignore[arg-type]
    assert session.scalar(select(func.count(Ticket.id))) == 0 and not mails(session)


def test_a_deactivated_user_cannot_file(session: Session, org: Org, submit: Callable[..., Submission]) -> None:
    ana = org["ana"]
    ana.is_active = False
    with pytest.raises(PermissionError):
        submit(ana)


def test_a_deflection_is_recorded_instead_of_a_ticket(session: Session, org: Org, triage: Triage) -> None:
    deflection = record_deflection(
        session,
        triage,
        user=org["ana"],
        category="login",
        origin=ORIGIN,
        answer="errors-and-technical-support#what-do-i-do-when-i-get-an-error",
    )
    assert (deflection.article_slug, deflection.question_id) == (
        "errors-and-technical-support",
        "what-do-i-do-when-i-get-an-error",
    )
    assert session.scalar(select(func.count(Ticket.id))) == 0
    assert session.scalar(select(func.count(Deflection.id))) == 1
    assert session.scalars(select(AuditEvent.action)).all()[-1] == "ticket_deflected"
    with pytest.raises(TicketError):
        record_deflection(session, triage, user=org["ana"], category="login", answer="../etc", origin=ORIGIN)


def test_a_double_submission_makes_one_ticket(session: Session, org: Org, submit: Callable[..., Submission]) -> None:
    first = submit(org["ana"], idempotency_key="form-1234567890")
    again = submit(org["ana"], idempotency_key="form-1234567890", subject="Changed on resend")
    assert first.created and not again.created and again.ticket.id == first.ticket.id
    assert again.ticket.subject == first.ticket.subject
    other = submit(org["ben"], idempotency_key="form-1234567890")  # keys are per reporter
    assert other.created and other.ticket.id != first.ticket.id
    assert session.scalar(select(func.count(Ticket.id))) == 2 and len(mails(session, "ticket_received")) == 2


def test_the_race_of_a_double_submission_is_caught_by_the_savepoint(
    session: Session, org: Org, triage: Triage, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with sessions() as other, other.begin():  # the twin request won the race and committed first
        reporter = other.get(User, org.users["ana"])
        assert reporter is not None
        submit_ticket(
            other,
            triage,
            reporter=reporter,
            category="login",
            subject="Login fails",
            description="It fails.",
            idempotency_key="race-1234567890",
            origin=ORIGIN,
        )
    from helpdesk.tickets import submit as services

    real_find, calls = services._find, []

    def miss_once(*args: object) -> Ticket | None:
        calls.append(args)
        return None if len(calls) == 1 else real_find(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(services, "_find", miss_once)
    session.rollback()
    result = submit_ticket(
        session,
        triage,
        reporter=org["ana"],
        category="login",
        subject="Login fails",
        description="It fails.",
        idempotency_key="race-1234567890",
        origin=ORIGIN,
    )
    assert not result.created and len(calls) == 2
    session.commit()  # the transaction is still usable after the rolled-back SAVEPOINT
    assert session.scalar(select(func.count(Ticket.id))) == 1


def test_two_threads_submitting_the_same_form_make_one_ticket(
    app: Flask, org: Org, triage: Triage, sessions: sessionmaker[Session]
) -> None:
    results = submit_together(sessions, triage, org, [("ana", "double-click-123")] * 2)
    assert sorted(created for created, _ in results) == [False, True]
    assert len({ticket_id for _, ticket_id in results}) == 1
    with sessions() as session:
        assert session.scalar(select(func.count(Ticket.id))) == 1
        assert session.scalar(select(func.count()).select_from(Incident)) == 0
