"""The actions of a request's page through the web: who may (403 otherwise), bad input (400, nothing changed), mail."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask

from helpdesk.orm import utcnow
from tests.tickets.conftest import Org
from tests.tickets.ticket_page_support import (
    Login,
    act,
    change,
    event_rows,
    file_request,
    outbox,
    page,
    text_of,
    ticket_row,
)

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI
CHECKED = "Other people at the office can log in; the password was reset twice."


@pytest.fixture
def ticket_id(app: Flask, org: Org) -> int:
    """A tier-1 login request of Ana (Travis County Probation)."""
    return file_request(app, org)


def unchanged(app: Flask, ticket_id: int, version: int, events: int) -> bool:
    """Tell whether the ticket is still at `version` with `events` history entries."""
    return ticket_row(app, ticket_id).version == version and len(event_rows(app, ticket_id)) == events


def test_a_staff_reply_is_mailed_to_the_reporter_and_confirmed(
    app: Flask, org: Org, login: Login, ticket_id: int
) -> None:
    pat = login("pat")
    response = act(pat, ticket_id, "reply", body="Your account is unlocked: please try again.")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/requests/{ticket_id}")
    text = text_of(pat.get(response.headers["Location"]))
    assert "Your reply was added and e-mailed to Ana Reyes." in text
    assert "Your account is unlocked: please try again." in text
    ticket = ticket_row(app, ticket_id)
    assert ticket.status == "open" and ticket.first_responded_at is not None
    assert outbox(app, "ticket_reply") == ["ana@tx.example.gov"]


def test_a_staff_reply_can_set_pending_and_the_reporters_answer_opens_it(
    app: Flask, org: Org, login: Login, ticket_id: int
) -> None:
    assert act(login("pat"), ticket_id, "reply", body="Which browser?", status="pending").status_code == 303
    assert ticket_row(app, ticket_id).status == "pending"
    ana = login("ana")
    assert "Pending (waiting on the reporter)" in page(ana, ticket_id)
    response = act(ana, ticket_id, "reply", body="Firefox, on the office computer.")
    assert response.status_code == 303
    assert "the people working on your request were told" in text_of(ana.get(f"/requests/{ticket_id}"))
    assert ticket_row(app, ticket_id).status == "open"
    assert set(outbox(app, "ticket_reply")[1:]) == {"pat@tx.example.gov", "lee@tx.example.gov"}


def test_the_reporter_cannot_set_a_status_with_a_reply(app: Flask, org: Org, login: Login, ticket_id: int) -> None:
    before = ticket_row(app, ticket_id).version
    response = act(login("ana"), ticket_id, "reply", body="Please hurry.", status="pending")
    assert response.status_code == 400 and "can set the status to open or pending only" in text_of(response)
    assert "Please hurry." in text_of(response) and unchanged(app, ticket_id, before, 2)


@pytest.mark.parametrize(
    "body, message",
    [
        ("", "Write your reply first."),
        ("  \u200b\n ", "Write your reply first."),
        ("x" * 20_001, "Keep it under 20,000 characters."),
    ],
)
def test_an_empty_or_huge_reply_is_refused_and_changes_nothing(
    app: Flask, org: Org, login: Login, ticket_id: int, body: str, message: str
) -> None:
    before, events = ticket_row(app, ticket_id).version, len(event_rows(app, ticket_id))
    response = act(login("pat"), ticket_id, "reply", body=body)
    assert (
        response.status_code == 400 and message in text_of(response) and "Your change was not made" in text_of(response)
    )
    assert unchanged(app, ticket_id, before, events) and outbox(app, "ticket_reply") == []


def test_notes_are_for_the_people_who_work_the_request(app: Flask, org: Org, login: Login, ticket_id: int) -> None:
    before, events = ticket_row(app, ticket_id).version, len(event_rows(app, ticket_id))
    for name in ("ana", "sam"):  # the reporter and the supervisor read, but do not write, notes
        assert act(login(name), ticket_id, "note", body="Looks like the old image.").status_code == 403
    assert unchanged(app, ticket_id, before, events)
    assert act(login("pat"), ticket_id, "note", body="Looks like the old image.").status_code == 303
    assert event_rows(app, ticket_id, "note") == [("note", "Looks like the old image.", False)]
    assert outbox(app, "ticket_reply") == []  # a note is not mailed to anyone


def test_status_is_set_by_staff_only_and_within_open_statuses(
    app: Flask, org: Org, login: Login, ticket_id: int
) -> None:
    before = ticket_row(app, ticket_id).version
    assert act(login("ana"), ticket_id, "status", status="pending").status_code == 403
    pat = login("pat")
    refused = act(pat, ticket_id, "status", status="resolved", reason="Done")
    assert refused.status_code == 400 and "Choose open or pending" in text_of(refused)
    assert unchanged(app, ticket_id, before, 2)
    response = act(pat, ticket_id, "status", status="pending", reason="Waiting for the screenshot.")
    assert response.status_code == 303
    assert "Status: Pending (waiting on the reporter)." in text_of(pat.get(f"/requests/{ticket_id}"))
    assert ticket_row(app, ticket_id).status == "pending"
    assert "Waiting for the screenshot." in page(login("ana"), ticket_id)  # the reason is part of the history


def test_resolving_mails_the_reporter_and_needs_a_resolution(
    app: Flask, org: Org, login: Login, ticket_id: int
) -> None:
    before = ticket_row(app, ticket_id).version
    assert act(login("sam"), ticket_id, "resolve", resolution="Unlocked.").status_code == 403
    robin = login("robin")
    empty = act(robin, ticket_id, "resolve", resolution="")
    assert empty.status_code == 400 and "Write the resolution first." in text_of(empty)
    assert unchanged(app, ticket_id, before, 2)
    response = act(robin, ticket_id, "resolve", resolution="The account was unlocked in the directory.")
    assert response.status_code == 303
    assert "closes by itself after 7 days" in text_of(robin.get(f"/requests/{ticket_id}"))
    assert ticket_row(app, ticket_id).status == "resolved"
    assert outbox(app, "ticket_resolved") == ["ana@tx.example.gov"]
    reporter = text_of(login("ana").get(f"/requests/{ticket_id}"))
    assert "The account was unlocked in the directory." in reporter and "Your reply opens the request again" in reporter


def test_assigning_to_a_named_person_who_may_hold_it(app: Flask, org: Org, login: Login, ticket_id: int) -> None:
    before = ticket_row(app, ticket_id).version
    assert act(login("ana"), ticket_id, "assign", assignee=org.users["pat"]).status_code == 403
    pat = login("pat")
    for nobody in (org.users["ben"], org.users["otto"], 999_999, "pat"):  # a PO, another state's IT, no one, junk
        response = act(pat, ticket_id, "assign", assignee=nobody)
        assert response.status_code == 400 and "Choose one of the people offered" in text_of(response), nobody
    assert unchanged(app, ticket_id, before, 2)
    response = act(pat, ticket_id, "assign", assignee=org.users["lee"], reason="Lee knows the directory.")
    assert response.status_code == 303 and "Assigned to Lee Park." in text_of(pat.get(f"/requests/{ticket_id}"))
    assert ticket_row(app, ticket_id).assignee_id == org.users["lee"]
    assert outbox(app, "ticket_assigned") == ["lee@tx.example.gov"]
    assert "assigned to Lee Park (from the queue): Lee knows the directory." in page(login("ana"), ticket_id)


def test_assign_to_me_and_the_supervisor_reassigns(app: Flask, org: Org, login: Login, ticket_id: int) -> None:
    lee = login("lee")
    assert "Assign to me" in page(lee, ticket_id)
    assert act(lee, ticket_id, "assign", assignee=org.users["lee"]).status_code == 303
    text = text_of(lee.get(f"/requests/{ticket_id}"))
    assert "You hold this request now." in text and "Assign to me" not in text
    assert outbox(app, "ticket_assigned") == []  # nobody to tell: Lee took it
    sam = login("sam")
    assert act(sam, ticket_id, "assign", assignee=org.users["pat"]).status_code == 303
    assert ticket_row(app, ticket_id).assignee_id == org.users["pat"]
    assert outbox(app, "ticket_assigned") == ["pat@tx.example.gov"]


def test_local_it_escalate_after_ruling_out_local_causes(app: Flask, org: Org, login: Login, ticket_id: int) -> None:
    before = ticket_row(app, ticket_id).version
    assert act(login("ana"), ticket_id, "escalate", ruled_out="y", checked=CHECKED).status_code == 403
    pat = login("pat")
    unticked = act(pat, ticket_id, "escalate", checked=CHECKED)
    assert unticked.status_code == 400 and 'Tick "I ruled out local causes" first' in text_of(unticked)
    assert CHECKED in text_of(unticked)  # what was typed is still in the form
    short = act(pat, ticket_id, "escalate", ruled_out="y", checked="nothing")
    assert short.status_code == 400 and "Say which local causes you ruled out" in text_of(short)
    assert unchanged(app, ticket_id, before, 2) and outbox(app, "ticket_escalated") == []
    response = act(pat, ticket_id, "escalate", ruled_out="y", checked=CHECKED)
    assert response.status_code == 303
    assert "Escalated to" in text_of(pat.get(f"/requests/{ticket_id}"))
    ticket = ticket_row(app, ticket_id)
    assert ticket.tier == "compact_office" and ticket.assignee_id is None
    assert set(outbox(app, "ticket_escalated")) == {"robin@tx.example.gov", "kim@tx.example.gov"}
    assert outbox(app, "ticket_moved") == ["ana@tx.example.gov"]
    reporter = page(login("ana"), ticket_id)
    assert "Texas compact office" in reporter and CHECKED in reporter
    # Local IT still see the request, but it is no longer theirs to work or escalate.
    after = page(pat, ticket_id)
    assert "Send reply" not in after and ">Escalate<" not in after
    assert act(pat, ticket_id, "escalate", checked=CHECKED, ruled_out="y").status_code == 403


def test_the_compact_office_escalates_to_the_national_office(app: Flask, org: Org, login: Login) -> None:
    ticket_id = file_request(app, org, category="access", subject="I need access to another state's cases")
    assert ticket_row(app, ticket_id).tier == "compact_office"
    robin = login("robin")
    assert "To the national office" in page(robin, ticket_id)
    response = act(robin, ticket_id, "escalate", checked="Offices in three states report the same access error.")
    assert response.status_code == 303
    assert ticket_row(app, ticket_id).tier == "national"
    assert outbox(app, "ticket_escalated") == ["noor@us.example.gov"]
    assert "National office" in page(login("ana"), ticket_id)
    assert ">Escalate<" not in page(login("noor"), ticket_id)  # there is no tier above


def test_only_the_compact_office_and_national_reopen(app: Flask, org: Org, login: Login, ticket_id: int) -> None:
    change(app, ticket_id, status="closed", resolved_at=utcnow() - dt.timedelta(days=8), closed_at=utcnow())
    before, events = ticket_row(app, ticket_id).version, len(event_rows(app, ticket_id))
    for name in ("pat", "ana", "sam"):
        assert act(login(name), ticket_id, "reopen", reason="It fails again.").status_code == 403
    robin = login("robin")
    empty = act(robin, ticket_id, "reopen", reason="")
    assert empty.status_code == 400 and "Say why the request is reopened." in text_of(empty)
    assert unchanged(app, ticket_id, before, events)
    response = act(robin, ticket_id, "reopen", reason="The same error came back.")
    assert response.status_code == 303 and ticket_row(app, ticket_id).status == "open"
    assert "ana@tx.example.gov" in outbox(app, "ticket_reopened")
    again = act(login("noor"), ticket_id, "reopen", reason="Again.")
    assert again.status_code == 400 and "This request is open: there is nothing to reopen." in text_of(again)


def test_the_reporter_asks_to_reopen_a_closed_request(app: Flask, org: Org, login: Login, ticket_id: int) -> None:
    ana = login("ana")
    still_open = act(ana, ticket_id, "ask-reopen", reason="It fails again.")
    assert still_open.status_code == 400 and "This request is not closed: reply to it instead." in text_of(still_open)
    change(app, ticket_id, status="closed", resolved_at=utcnow() - dt.timedelta(days=8), closed_at=utcnow())
    assert act(login("pat"), ticket_id, "ask-reopen", reason="It fails again.").status_code == 403
    assert act(ana, ticket_id, "reply", body="Hello?").status_code == 400  # closed: ask instead
    response = act(ana, ticket_id, "ask-reopen", reason="The error is back since this morning.")
    assert response.status_code == 303
    assert "sent to the compact office" in text_of(ana.get(f"/requests/{ticket_id}"))
    assert ticket_row(app, ticket_id).status == "closed"  # only the office reopens
    assert set(outbox(app, "ticket_reopen_requested")) == {"robin@tx.example.gov", "kim@tx.example.gov"}
    assert "The error is back since this morning." in page(login("robin"), ticket_id)


def test_every_action_needs_the_csrf_token(app: Flask, org: Org, login: Login, ticket_id: int) -> None:
    pat = login("pat")
    for action in ("reply", "note", "status", "resolve", "assign", "escalate", "reopen", "ask-reopen"):
        response = pat.post(f"/requests/{ticket_id}/{action}", data={"version": 1, "body": "x"})
        assert response.status_code == 400, action
    assert ticket_row(app, ticket_id).version == 1


def test_a_missing_or_bad_version_is_refused(app: Flask, org: Org, login: Login, ticket_id: int) -> None:
    pat = login("pat")
    response = act(pat, ticket_id, "reply", version="abc", body="Try again.")  # type: ignore[arg-type]
    assert response.status_code == 400 and "This form is out of date" in text_of(response)
    assert "Try again." in text_of(response)  # kept in its form
    assert ticket_row(app, ticket_id).version == 1 and event_rows(app, ticket_id, "reply") == []
