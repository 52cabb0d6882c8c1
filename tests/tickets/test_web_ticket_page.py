"""The page of one request: who sees it (404 for another state), what it shows, and which actions it offers whom."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.extensions import db
from helpdesk.orm import utcnow
from helpdesk.tickets.models import Attachment
from helpdesk.triage.routing import LOCATION_NOTICE, SYSTEM_NOTICE
from tests.tickets.conftest import TRAVIS, Org
from tests.tickets.ticket_page_support import (
    Login,
    act,
    change,
    event_rows,
    file_request,
    page,
    text_of,
    ticket_row,
)

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI
SUGGESTED = "errors-and-technical-support#what-do-i-do-when-i-get-an-error-or-if-i-cant-log-into-icots"
#: What each action's form looks like on the page (its submit button).
BUTTONS = {
    "reply": "Send reply",
    "note": "Add note",
    "status": "Set status",
    "resolve": "Resolve the request",
    "assign": ">Assign<",
    "take": "Assign to me",
    "escalate": ">Escalate<",
    "reopen": "Reopen the request",
    "ask_reopen": "Ask the compact office to reopen",
}


def offered(text: str) -> set[str]:
    """Return the actions whose forms the page shows."""
    return {action for action, button in BUTTONS.items() if button in text}


def test_the_reporter_sees_the_request_where_it_went_and_why(app: Flask, org: Org, login: Login) -> None:
    ticket_id = file_request(
        app, org, tried="Caps lock is off; I reset the password.", affected="me", suggestions=[SUGGESTED]
    )
    text = text_of(login("ana").get(f"/requests/{ticket_id}"))
    ticket = ticket_row(app, ticket_id)
    for shown in (
        f"#{ticket_id} Cannot log in since Monday",
        "New",
        "I can't log in",
        f"Local IT of {TRAVIS}",
        "Unassigned (queue)",
        f"Ana Reyes, {TRAVIS}",
        "The password is refused.",
        "Caps lock is off; I reset the password.",
        "Just me",
        "Why it went here",
        ticket.route_reason,
        "What do I do when I get an error or if I can't log into ICOTS?",
        f'href="/articles/{SUGGESTED}"',
    ):
        assert shown in text, shown
    assert "Routed to" in text or "routed to" in text
    assert "First response due" not in text and "Resolution due" not in text  # due times are for staff
    assert "Request submitted" in text and "Ana Reyes" in text  # the history: who filed it
    assert offered(text) == {"reply"}
    assert LOCATION_NOTICE not in text


def test_staff_see_due_times_and_the_actions_of_their_role(app: Flask, org: Org, login: Login) -> None:
    ticket_id = file_request(app, org)
    pat = page(login("pat"), ticket_id)
    assert "First response due" in pat and "Resolution due" in pat and "2026" in pat
    assert offered(pat) == {"reply", "note", "status", "resolve", "assign", "take", "escalate"}
    assert "I ruled out local causes" in pat and "Lee Park (Local IT)" in pat
    assert "Robin Diaz (Compact Office staff)" in pat
    assert "Ana Reyes (" not in pat  # a reporter is never a holder
    assert offered(page(login("sam"), ticket_id)) == {"assign"}  # the supervisor reassigns, nothing more
    robin = page(login("robin"), ticket_id)
    assert offered(robin) == {"reply", "note", "status", "resolve", "assign", "take", "escalate"}
    assert offered(page(login("noor"), ticket_id)) == {"reply", "note", "status", "resolve", "assign", "escalate"}


@pytest.mark.parametrize("name", ["oscar", "otto", "olga", "hal", "hope", "ben", "tess"])
def test_people_outside_the_request_get_404_like_a_missing_one(app: Flask, org: Org, login: Login, name: str) -> None:
    ticket_id = file_request(app, org)
    client = login(name)
    assert client.get(f"/requests/{ticket_id}").status_code == 404
    assert client.get("/requests/999999").status_code == 404
    assert act(client, ticket_id, "reply", body="Hello").status_code == 404
    assert event_rows(app, ticket_id, "reply") == []


@pytest.mark.parametrize("name", ["ana", "pat", "lee", "sam", "robin", "kim", "noor"])
def test_the_reporter_and_the_people_who_work_it_see_it(app: Flask, org: Org, login: Login, name: str) -> None:
    ticket_id = file_request(app, org)
    assert "Cannot log in since Monday" in page(login(name), ticket_id)


def test_signed_out_visitors_go_to_the_sign_in_page(app: Flask, org: Org, client: FlaskClient) -> None:
    ticket_id = file_request(app, org)
    response = client.get(f"/requests/{ticket_id}")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_internal_notes_reach_staff_and_never_the_reporter(app: Flask, org: Org, login: Login) -> None:
    ticket_id = file_request(app, org)
    pat = login("pat")
    assert act(pat, ticket_id, "note", body="Her workstation runs the old image.").status_code == 303
    assert act(pat, ticket_id, "reply", body="Please try again now.").status_code == 303
    reporter = page(login("ana"), ticket_id)
    assert "Please try again now." in reporter and "old image" not in reporter and "Internal note" not in reporter
    for name in ("pat", "sam", "robin"):  # supervisors and the compact office read notes too
        staff = page(login(name), ticket_id)
        assert "Her workstation runs the old image." in staff and "Internal: staff only" in staff


def test_a_location_incident_is_announced_on_each_of_its_requests(app: Flask, org: Org, login: Login) -> None:
    first, second, third = (file_request(app, org, name) for name in ("ana", "ben", "dee"))
    alone = file_request(app, org, "hal")
    for ticket_id, name in ((first, "ana"), (third, "dee")):
        assert LOCATION_NOTICE in text_of(login(name).get(f"/requests/{ticket_id}"))
    assert LOCATION_NOTICE not in text_of(login("hal").get(f"/requests/{alone}"))
    staff = page(login("pat"), second)
    assert "Location incident #" in staff and "3 reports" in staff


def test_a_system_wide_incident_is_announced_and_with_the_national_office(app: Flask, org: Org, login: Login) -> None:
    for name in ("ana", "olga"):
        file_request(app, org, name, "error")
    ticket_id = file_request(app, org, "nina", "error")
    text = text_of(login("nina").get(f"/requests/{ticket_id}"))
    assert SYSTEM_NOTICE in text and "National office" in text and "I get an error" in text


def test_attachments_are_listed(app: Flask, org: Org, login: Login) -> None:
    ticket_id = file_request(app, org)
    with app.app_context():
        db.session.add(
            Attachment(
                ticket_id=ticket_id,
                uploader_id=org.users["ana"],
                filename="error-screen.png",
                content_type="image/png",
                size=2048,
                sha256="0" * 64,
                storage_name="a" * 32,
            )
        )
        db.session.commit()
    assert "error-screen.png" in page(login("ana"), ticket_id)
    assert "error-screen.png" in page(login("pat"), ticket_id)


def test_a_closed_request_offers_reopening_to_the_office_and_asking_to_the_reporter(
    app: Flask, org: Org, login: Login
) -> None:
    ticket_id = file_request(app, org)
    change(app, ticket_id, status="closed", resolved_at=utcnow() - dt.timedelta(days=8), closed_at=utcnow())
    assert offered(page(login("ana"), ticket_id)) == {"ask_reopen"}
    assert offered(page(login("pat"), ticket_id)) == set()  # local IT do not reopen
    assert offered(page(login("robin"), ticket_id)) == {"reopen"}
    assert "Closed" in page(login("noor"), ticket_id)


def test_times_are_shown_as_the_clock_reads_at_the_agency(app: Flask, org: Org, login: Login) -> None:
    # Filed at the fixtures' stopped clock: Tuesday 10 March 2026, 15:00 UTC = 10:00 in Texas (CDT).
    ticket_id = file_request(app, org)
    text = text_of(login("pat").get(f"/requests/{ticket_id}"))
    assert '<time datetime="2026-03-10T15:00:00+00:00">2026-03-10 10:00 CDT</time>' in text
    assert "UTC</time>" not in text


def test_every_read_of_a_request_is_in_the_audit_trail(app: Flask, org: Org, login: Login) -> None:
    from sqlalchemy import select

    from helpdesk.audit.models import AuditEvent

    ticket_id = file_request(app, org)
    assert login("pat").get(f"/requests/{ticket_id}").status_code == 200
    assert login("olga").get(f"/requests/{ticket_id}").status_code == 404  # another state's: nothing was read
    with app.app_context():
        reads = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "ticket_viewed")).all()
        assert [(r.actor_id, r.target_type, r.target_id, r.state_code) for r in reads] == [
            (org.users["pat"], "ticket", str(ticket_id), "TX")
        ]
        assert reads[0].ip  # where from, as every audit row
