"""The "Submit a request" page: categories and checklists, filing, idempotent resends, deflection, the /request page."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from helpdesk.audit.models import AuditEvent
from helpdesk.extensions import db
from helpdesk.tickets.attachments import AttachmentStore, check_upload
from helpdesk.tickets.models import Attachment, Deflection, Ticket
from tests.helpers import read_csrf_token
from tests.tickets.conftest import ORIGIN, Org
from tests.tickets.ticket_page_support import Login, file_request

pytestmark = pytest.mark.db

_KEY = re.compile(r'name="idempotency_key" value="([^"]*)"')
LOGIN_ANSWER = "errors-and-technical-support#what-do-i-do-when-i-get-an-error-or-if-i-cant-log-into-icots"


def form_page(client: FlaskClient, query: str = "") -> tuple[str, str, str]:
    """Return the request form's HTML, its CSRF token and its idempotency key."""
    page = client.get(f"/requests/new{query}")
    key = _KEY.search(page.text)
    assert page.status_code == 200 and key is not None
    return page.text, read_csrf_token(client, "/requests/new"), key.group(1)


def send(client: FlaskClient, **fields: Any) -> Any:
    """Fill in a fresh form (any field overridable) and send it."""
    _, token, key = form_page(client)
    data = {
        "csrf_token": token,
        "idempotency_key": key,
        "category": "login",
        "subject": "Cannot log in",
        "description": "My password is refused since this morning.",
        "tried": "Checked caps lock",
        "affected": "me",
        "suggestions": "",
        **fields,
    }
    return client.post("/requests/new", data={k: v for k, v in data.items() if v is not None})


def tickets(app: Flask) -> list[Ticket]:
    """Return every ticket (detached), oldest first."""
    with app.app_context():
        rows = list(db.session.scalars(select(Ticket).order_by(Ticket.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def shown_page(client: FlaskClient, path: str = "/requests") -> str:
    """Return a page's text (the flashed messages of the last action appear on it)."""
    return html.unescape(client.get(path).get_data(as_text=True))


def test_the_form_offers_every_category_the_notice_and_a_fresh_key(app: Flask, login: Login) -> None:
    client = login("ana")
    text, _, key = form_page(client)
    for label in (
        "I can't log in",
        "I get an error",
        "Pages are slow",
        "Access or account",
        "Privacy",
        "Reopen a closed case",
        "Something else",
    ):
        assert label in html.unescape(text)
    assert "Do not include offender or case details" in text and 'enctype="multipart/form-data"' in text
    assert 'name="affected" value="location"' in text and "What I already tried" in text
    assert len(key) >= 32 and key != form_page(client)[2]  # one per rendering
    # Nothing chosen: without JavaScript every checklist is visible.
    assert re.search(r'data-checklist="\w+"[^>]*hidden', text) is None
    assert 'src="/static/js/deflect.js"' in text


def test_a_category_in_the_address_is_chosen_and_only_its_checklist_shows(app: Flask, login: Login) -> None:
    text, _, _ = form_page(login("ana"), "?category=login")
    assert 'value="login" data-category checked' in text
    assert re.search(r'data-checklist="login"\s*>', text)
    assert re.search(r'data-checklist="slow" hidden', text)
    assert "make sure your caps lock is off" in text and "What was my password again?" in html.unescape(text)
    assert f'href="/articles/{LOGIN_ANSWER}"' in text
    assert f'form="deflect-login" name="answer" value="{LOGIN_ANSWER}"' in text
    assert 'id="deflect-login" method="post" action="/requests/deflect"' in text
    slow, _, _ = form_page(login("ben"), "?category=slow")
    assert "Ask colleagues at your location whether pages are slow for them too." in slow
    unknown, _, _ = form_page(login("dee"), "?category=bogus")
    assert "checked" not in unknown.split('name="category"')[1].split("</fieldset>")[0]


def test_sending_files_a_ticket_and_says_where_it_went(app: Flask, login: Login) -> None:
    client = login("ana")
    recorded = f"getting-help-with-this-help-desk#i-forgot-my-password-what-do-i-do {LOGIN_ANSWER}"
    response = send(client, suggestions=recorded, affected="location")
    [ticket] = tickets(app)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/requests/{ticket.id}")
    assert (ticket.category, ticket.subject, ticket.tried, ticket.affected) == (
        "login",
        "Cannot log in",
        "Checked caps lock",
        "location",
    )
    assert ticket.tier == "local_it" and ticket.status == "new"
    shown = ticket.suggestions_shown.split()
    # What the page's script recorded, then the category's own answers (shown with its checklist).
    assert shown[:2] == ["getting-help-with-this-help-desk#i-forgot-my-password-what-do-i-do", LOGIN_ANSWER]
    assert "user-administration-and-system-access#how-can-i-get-assistance-to-reset-my-password" in shown
    assert len(shown) == len(set(shown))
    page = shown_page(client)
    assert f"Your request #{ticket.id} was sent and routed to Local IT of Travis County Probation" in page


def test_an_access_request_goes_to_the_compact_office(app: Flask, login: Login) -> None:
    client = login("ana")
    assert send(client, category="access", subject="New user for our office").status_code == 303
    [ticket] = tickets(app)
    assert ticket.tier == "compact_office"
    assert "was sent and routed to the Texas compact office" in shown_page(client)


def test_a_double_submit_files_one_ticket_and_both_lead_to_it(app: Flask, login: Login) -> None:
    client = login("ana")
    _, token, key = form_page(client)
    data = {
        "csrf_token": token,
        "idempotency_key": key,
        "category": "error",
        "subject": "Error on save",
        "description": "An application error appears.",
        "affected": "unknown",
    }
    first = client.post("/requests/new", data=data)
    second = client.post("/requests/new", data=data)
    [ticket] = tickets(app)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert first.headers["Location"].endswith(f"/requests/{ticket.id}")
    assert f"already sent as request #{ticket.id}; it was not filed twice" in shown_page(client)


def test_the_third_report_at_a_location_hears_others_reported_it_too(app: Flask, login: Login) -> None:
    for name in ("ana", "ben", "dee"):
        client = login(name)
        assert send(client, category="slow", subject="Pages are very slow").status_code == 303
    assert "Others at your location have reported this too." in shown_page(client)
    assert len({t.incident_id for t in tickets(app)}) == 1 and tickets(app)[0].incident_id is not None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"category": None}, "category", "Choose what kind of problem this is."),
        ({"category": "bogus"}, "category", "Choose what kind of problem this is."),
        ({"subject": "  "}, "subject", "Give the request a subject."),
        ({"subject": "ab"}, "subject", "Use 3 to 200 characters."),
        ({"description": " \n "}, "description", "Describe the problem."),
        ({"affected": "everyone"}, "affected", "Say who is affected."),
        ({"suggestions": "<script>alert(1)</script>"}, None, "The list of answers shown could not be read"),
        ({"idempotency_key": "x"}, None, "The form has expired"),
    ],
)
def test_bad_input_is_refused_shown_and_kept(
    app: Flask, login: Login, fields: dict[str, Any], field: str | None, message: str
) -> None:
    client = login("ana")
    response = send(client, **{"tried": "Restarted the browser & cleared the cache", **fields})
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and not tickets(app)
    assert html.escape(message) in text or message in text
    if field is not None:
        assert f'aria-describedby="{field}-error"' in text
    assert "Restarted the browser &amp; cleared the cache</textarea>" in text  # what was typed is kept
    if "description" not in fields:
        assert "My password is refused since this morning.</textarea>" in text
    assert re.search(r'name="idempotency_key" value="[A-Za-z0-9_-]{32}"', text)


def test_the_form_needs_a_signed_in_user_and_a_csrf_token(app: Flask, client: FlaskClient, login: Login) -> None:
    response = client.get("/requests/new?category=login")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    refused = send(login("ana"), csrf_token=None)
    assert refused.status_code == 400 and not tickets(app)


def test_a_deactivated_user_cannot_file(app: Flask, org: Org, login: Login) -> None:
    client = login("ana")
    _, token, key = form_page(client)
    with app.app_context():
        org["ana"].is_active = False
        db.session.commit()
    response = client.post(
        "/requests/new",
        data={
            "csrf_token": token,
            "idempotency_key": key,
            "category": "login",
            "subject": "Cannot log in",
            "description": "Refused.",
        },
    )
    # Deactivation ends the session: the request goes back to the sign-in page, and nothing is filed.
    assert response.status_code == 302 and "/login" in response.headers["Location"] and not tickets(app)


def deflections(app: Flask) -> list[tuple[int, str, str | None, str | None]]:
    """Return (user, category, article, question) of every deflection."""
    with app.app_context():
        rows = db.session.execute(
            select(Deflection.user_id, Deflection.category, Deflection.article_slug, Deflection.question_id).order_by(
                Deflection.id
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_this_answered_my_question_counts_a_deflection_and_files_nothing(app: Flask, org: Org, login: Login) -> None:
    client = login("ana")
    _, token, _ = form_page(client, "?category=login")
    response = client.post("/requests/deflect", data={"csrf_token": token, "category": "login", "answer": LOGIN_ANSWER})
    slug, question = LOGIN_ANSWER.split("#")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/articles/{slug}#{question}")
    assert "Glad that helped — no request was filed" in shown_page(client, f"/articles/{slug}")
    checklist = client.post("/requests/deflect", data={"csrf_token": token, "category": "slow", "answer": ""})
    assert checklist.status_code == 303 and checklist.headers["Location"].endswith("/")
    ana = org.users["ana"]
    assert deflections(app) == [(ana, "login", slug, question), (ana, "slow", None, None)]
    assert not tickets(app)
    with app.app_context():
        audited = db.session.scalar(select(func.count()).where(AuditEvent.action == "ticket_deflected"))
    assert audited == 2


@pytest.mark.parametrize(
    "data",
    [
        {"category": "bogus"},
        {"category": ""},
        {"category": "login", "answer": "../x"},
        {"category": "login", "answer": "Errors#Q"},
    ],
)
def test_a_bad_deflection_is_refused(app: Flask, login: Login, data: dict[str, str]) -> None:
    client = login("ana")
    token = read_csrf_token(client, "/requests/new")
    response = client.post("/requests/deflect", data={"csrf_token": token, **data})
    assert response.status_code == 400 and not deflections(app)
    assert client.post("/requests/deflect", data={"category": "login"}).status_code == 400  # no CSRF token


def test_the_request_page_leads_to_the_form(app: Flask, client: FlaskClient, login: Login) -> None:
    signed_out = client.get("/request").get_data(as_text=True)
    assert "Search first." in signed_out and "Then your state compact office." in signed_out
    assert 'href="/login?next=/requests/new"' in signed_out or 'href="/login?next=%2Frequests%2Fnew"' in signed_out
    assert "being introduced" not in signed_out
    assert 'href="/request"' in signed_out  # the main navigation leads signed-out visitors here
    client = login("ana")
    moved = client.get("/request")  # signed in: straight to the form, whose first lines are the same path
    assert moved.status_code == 302 and moved.headers["Location"] == "/requests/new"
    form = client.get("/requests/new").get_data(as_text=True)
    assert "Search first." in form and "Then your state compact office." in form
    assert form.index("Then your state compact office.") < form.index('name="category"')
    nav = form[form.index('<nav aria-label="Main">') : form.index("</nav>", form.index('<nav aria-label="Main">'))]
    assert '<a href="/requests/new" aria-current="page">Submit a request</a>' in nav and 'href="/request"' not in nav
    article = client.get("/articles/getting-help-with-this-help-desk").get_data(as_text=True)
    assert "being introduced" not in article and "This answered my question" in html.unescape(article)


def test_files_written_before_a_failed_transaction_are_removed(app: Flask, org: Org) -> None:
    ticket_id, folder = file_request(app, org), Path(app.config["INSTANCE_DIR"]) / "attachments"
    uploads = [check_upload(name, io.BytesIO(b"Steps I tried.")) for name in ("one.txt", "two.txt")]
    with app.app_context(), pytest.raises(IntegrityError), AttachmentStore(folder) as store:
        ticket, ana = db.session.get(Ticket, ticket_id), org["ana"]
        assert ticket is not None
        saved = store.save(db.session, ticket, uploads, uploader=ana, origin=ORIGIN, now=ticket.created_at)
        assert len(list(folder.iterdir())) == 2
        # A second row with the same storage name: the database refuses the transaction.
        db.session.add(
            Attachment(
                ticket_id=ticket_id,
                uploader_id=ana.id,
                filename="x.txt",
                content_type="text/plain",
                size=1,
                sha256="0" * 64,
                storage_name=saved[0].storage_name,
            )
        )
        db.session.flush()
    with app.app_context():
        assert list(folder.iterdir()) == [] and db.session.scalar(select(func.count()).select_from(Attachment)) == 0
