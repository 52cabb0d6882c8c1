"""Working a ticket: replies and notes, first response, statuses, resolve, reopen rules, who may do what."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from sqlalchemy.orm import Session

from helpdesk.tickets.context import Triage
from helpdesk.tickets.errors import TicketError
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.queries import list_ticket_events
from helpdesk.tickets.submit import Submission
from helpdesk.tickets.workflow import (
    reopen_ticket,
    reply_ticket,
    request_reopen,
    resolve_ticket,
    set_ticket_status,
)
from tests.tickets.conftest import ORIGIN, Org, events, mails

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI


@pytest.fixture
def ticket(org: Org, submit: Callable[..., Submission], session: Session) -> Ticket:
    """A tier-1 login request of Ana (Travis County), worked by Travis's local IT."""
    return submit(org["ana"], "login", subject="Cannot log in since Monday").ticket


def _reply(session: Session, triage: Triage, ticket: Ticket, actor: str, org: Org, **options: object) -> None:
    reply_ticket(
        session,
        triage,
        ticket,
        actor=org[actor],
        body=options.pop("body", "Try again now."),  # type: ignore[arg-type]
        expected_version=ticket.version,
        origin=ORIGIN,
        **options,
    )  # type: ignore[arg-type]


def _resolve(session: Session, triage: Triage, ticket: Ticket, org: Org, actor: str = "pat") -> None:
    resolve_ticket(
        session,
        triage,
        ticket,
        actor=org[actor],
        resolution="The account was unlocked.",
        expected_version=ticket.version,
        origin=ORIGIN,
    )


def test_first_public_staff_reply_is_the_first_response(
    session: Session, org: Org, triage: Triage, ticket: Ticket, clock: time_machine.Traveller
) -> None:
    clock.shift(dt.timedelta(minutes=5))
    _reply(session, triage, ticket, "pat", org, public=False, body="Checking the directory.")
    assert ticket.first_responded_at is None and ticket.status == "new"  # a note is not a response
    clock.shift(dt.timedelta(minutes=20))
    _reply(session, triage, ticket, "pat", org)
    responded = ticket.first_responded_at
    assert responded == dt.datetime(2026, 3, 10, 15, 25, tzinfo=dt.UTC) and ticket.status == "open"
    clock.shift(dt.timedelta(hours=1))
    _reply(session, triage, ticket, "lee", org, status="pending")
    assert ticket.first_responded_at == responded and ticket.status == "pending"
    assert [e.kind for e in events(session, ticket)][-3:] == ["note", "reply", "reply"]
    assert all(f"/requests/{ticket.id}" in m.body_text for m in mails(session, "ticket_reply"))
    assert {m.recipient for m in mails(session, "ticket_reply")} == {"ana@tx.example.gov"}  # not for the note


def test_the_reporter_sees_replies_but_not_internal_notes(
    session: Session, org: Org, triage: Triage, ticket: Ticket
) -> None:
    _reply(session, triage, ticket, "pat", org, public=False, body="Her workstation is on the old image.")
    _reply(session, triage, ticket, "pat", org, body="Please try again.")
    seen_by_reporter = [e.body for e in list_ticket_events(session, ticket, org["ana"])]
    seen_by_staff = [e.body for e in list_ticket_events(session, ticket, org["pat"])]
    assert "Please try again." in seen_by_reporter and "Her workstation is on the old image." not in seen_by_reporter
    assert "Her workstation is on the old image." in seen_by_staff
    with pytest.raises(PermissionError):
        _reply(session, triage, ticket, "ana", org, public=False)


def test_a_reporter_answer_reopens_a_pending_or_resolved_request(
    session: Session, org: Org, triage: Triage, ticket: Ticket
) -> None:
    _reply(session, triage, ticket, "pat", org, status="pending")
    _reply(session, triage, ticket, "ana", org, body="Still failing.")
    assert ticket.status == "open"
    assert {m.recipient for m in mails(session, "ticket_reply")[-3:]} == {
        "pat@tx.example.gov",
        "lee@tx.example.gov",
        "ana@tx.example.gov",
    }
    _resolve(session, triage, ticket, org)
    assert ticket.status == "resolved" and ticket.resolved_at is not None
    [resolved] = mails(session, "ticket_resolved")
    assert resolved.recipient == "ana@tx.example.gov" and "within 7 days" in resolved.body_text
    assert f"https://help.example.org/requests/{ticket.id}" in resolved.body_text
    _reply(session, triage, ticket, "ana", org, body="No, it is back.")
    assert ticket.status == "open" and ticket.resolved_at is None
    assert events(session, ticket, "reply")[-1].reason == "status resolved -> open"


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        ("pat", True),
        ("robin", True),
        ("noor", True),  # local IT of Travis, TX compact office, national
        ("otto", False),
        ("oscar", False),  # local IT and compact office of another state
        ("ben", False),
        ("sam", False),
        ("tess", False),  # a colleague, the supervisor, the state administrator
    ],
)
def test_who_may_work_a_tier_one_request(
    session: Session, org: Org, triage: Triage, ticket: Ticket, actor: str, allowed: bool
) -> None:
    def attempts() -> None:
        _reply(session, triage, ticket, actor, org, public=False)

    if allowed:
        attempts()
        set_ticket_status(
            session, triage, ticket, actor=org[actor], status="pending", expected_version=ticket.version, origin=ORIGIN
        )
        _resolve(session, triage, ticket, org, actor)
        assert ticket.status == "resolved"
        return
    for change in (
        attempts,
        lambda: _resolve(session, triage, ticket, org, actor),
        lambda: set_ticket_status(
            session, triage, ticket, actor=org[actor], status="pending", expected_version=ticket.version, origin=ORIGIN
        ),
    ):
        with pytest.raises(PermissionError):
            change()
    assert ticket.status == "new" and ticket.version == 1


def test_status_changes_are_checked(session: Session, org: Org, triage: Triage, ticket: Ticket) -> None:
    with pytest.raises(TicketError, match="open or pending"):
        set_ticket_status(
            session, triage, ticket, actor=org["pat"], status="closed", expected_version=ticket.version, origin=ORIGIN
        )
    with pytest.raises(TicketError, match="Write a reply first"):
        _reply(session, triage, ticket, "pat", org, body="   ")
    with pytest.raises(TicketError, match="Write the resolution first"):
        resolve_ticket(session, triage, ticket, actor=org["pat"], resolution="", expected_version=1, origin=ORIGIN)
    _resolve(session, triage, ticket, org)
    with pytest.raises(TicketError, match="reopened first"):
        set_ticket_status(
            session, triage, ticket, actor=org["pat"], status="open", expected_version=ticket.version, origin=ORIGIN
        )
    with pytest.raises(TicketError, match="reopened first"):
        _reply(session, triage, ticket, "pat", org, status="open")


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [("robin", True), ("noor", True), ("pat", False), ("oscar", False), ("sam", False), ("ana", False)],
)
def test_only_the_compact_office_and_national_staff_reopen(
    session: Session, org: Org, triage: Triage, ticket: Ticket, actor: str, allowed: bool
) -> None:
    _resolve(session, triage, ticket, org)
    ticket.status = "closed"
    session.flush()
    if not allowed:
        with pytest.raises(PermissionError):
            reopen_ticket(
                session,
                triage,
                ticket,
                actor=org[actor],
                reason="Closed too early.",
                expected_version=ticket.version,
                origin=ORIGIN,
            )
        return
    reopen_ticket(
        session,
        triage,
        ticket,
        actor=org[actor],
        reason="Closed too early.",
        expected_version=ticket.version,
        origin=ORIGIN,
    )
    assert ticket.status == "open" and ticket.closed_at is None and ticket.resolved_at is None
    [event] = events(session, ticket, "reopened")
    assert event.public and event.body == "Closed too early." and event.actor_id == org.users[actor]
    assert ticket.resolution_due is not None and ticket.resolution_due > dt.datetime.now(dt.UTC)
    recipients = {m.recipient for m in mails(session, "ticket_reopened")}
    assert recipients == {"ana@tx.example.gov", "pat@tx.example.gov", "lee@tx.example.gov"}


def test_the_reporter_asks_to_reopen_and_the_compact_office_is_told(
    session: Session, org: Org, triage: Triage, ticket: Ticket
) -> None:
    with pytest.raises(TicketError, match="not closed"):
        request_reopen(
            session,
            triage,
            ticket,
            actor=org["ana"],
            reason="It came back.",
            expected_version=ticket.version,
            origin=ORIGIN,
        )
    _resolve(session, triage, ticket, org)
    ticket.status = "closed"
    session.flush()
    with pytest.raises(TicketError, match="Ask for it to be reopened"):
        _reply(session, triage, ticket, "ana", org)
    with pytest.raises(PermissionError):
        request_reopen(
            session,
            triage,
            ticket,
            actor=org["ben"],
            reason="It came back.",
            expected_version=ticket.version,
            origin=ORIGIN,
        )
    request_reopen(
        session,
        triage,
        ticket,
        actor=org["ana"],
        reason="It came back on Friday.",
        expected_version=ticket.version,
        origin=ORIGIN,
    )
    assert ticket.status == "closed"  # only asked: the compact office decides
    asks = mails(session, "ticket_reopen_requested")
    assert {m.recipient for m in asks} == {"robin@tx.example.gov", "kim@tx.example.gov"}
    assert f"https://help.example.org/requests/{ticket.id}" in asks[0].body_text
    assert "It came back on Friday." not in asks[0].body_text
