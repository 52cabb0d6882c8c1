"""Issue 8 item 7: one normaliser for all text typed into a form or the JSON API (NFC, no controls, nothing hidden)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from sqlalchemy import select

from helpdesk.accounts.models import Agency, ApiToken, User
from helpdesk.accounts.reset_queue import reset_queue
from helpdesk.extensions import db
from helpdesk.forms import Form
from helpdesk.kb.models import Comment
from helpdesk.mail.models import OutboxMessage
from helpdesk.text import clean_line, clean_text
from helpdesk.tickets.models import Ticket
from tests.factories import make_user, sign_in
from tests.helpers import read_csrf_token

pytestmark = pytest.mark.db

RLO, ZWSP, BOM = "\u202e", "\u200b", "\ufeff"
ARTICLE = "/articles/errors-and-technical-support"
_KEY = re.compile(r'name="idempotency_key" value="([^"]*)"')


@pytest.mark.parametrize(
    "raw, line, text",
    [
        ("  Printer\u00a0jam ", "Printer\u00a0jam", "  Printer\u00a0jam "),
        ("e\u0301t\u00e9", "\u00e9t\u00e9", "\u00e9t\u00e9"),  # NFC
        (f"{ZWSP}{ZWSP}", "", ""),
        (f"{BOM}{BOM} {BOM}", "", ""),
        ("\u2800\u3164", "", ""),  # nothing visible
        ("a\x00b\x07c\x1bd\x7fe\x9bf", "abcdef", "abcdef"),  # NUL, C0, DEL, C1
        (f"invoice{RLO}fdp.exe\u2066x\u2069", "invoicefdp.exex", "invoicefdp.exex"),  # bidi overrides and isolates
        (f"a{ZWSP}b\u200cc\u200dd\u2060e{BOM}f", "abcdef", f"a{ZWSP}b\u200cc\u200dd\u2060e{BOM}f"),
        ("one\r\ntwo\rthree\u2028four\x85five\tsix", "one two three four five six", "one\ntwo\nthree\nfour\nfive\tsix"),
        ("\ud800lone", "lone", "lone"),  # a lone surrogate from JSON
    ],
)
def test_the_normaliser(raw: str, line: str, text: str) -> None:
    assert clean_line(raw) == line and clean_text(raw) == text


def test_every_form_of_the_app_normalises_its_input(app: Flask) -> None:
    def subclasses(cls: type) -> list[type]:
        return [cls, *(sub for direct in cls.__subclasses__() for sub in subclasses(direct))]

    ours = [form for form in subclasses(FlaskForm) if form.__module__.startswith("helpdesk.")]
    assert len(ours) > 30 and all(issubclass(form, Form) for form in ours), [
        f"{form.__module__}.{form.__name__}" for form in ours if not issubclass(form, Form)
    ]


@pytest.fixture
def reporter(app: Flask) -> User:
    """A PO of an agency with local IT, signed in by `po`."""
    make_user(app, role="local_it", state="TX", agency="Travis County Probation", name="Pat Lee")
    return make_user(
        app, role="po", state="TX", agency="Travis County Probation", name="Ana Reyes", email="ana@tx.example.gov"
    )


@pytest.fixture
def po(app: Flask, reporter: User) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, reporter).status_code == 303
    return client


def file_form(client: FlaskClient, **fields: str) -> object:
    page = client.get("/requests/new").text
    key = _KEY.search(page)
    assert key is not None
    data = {
        "csrf_token": read_csrf_token(client, "/requests/new"),
        "idempotency_key": key.group(1),
        "category": "login",
        "subject": "Cannot log in",
        "description": "Refused.",
        "affected": "me",
        **fields,
    }
    return client.post("/requests/new", data=data)


def file_api(client: FlaskClient, **fields: str) -> object:
    token = read_csrf_token(client, "/requests/new")
    body = {"category": "login", "subject": "Cannot log in", "description": "Refused.", **fields}
    return client.post("/api/v1/tickets", json=body, headers={"X-CSRFToken": token})


def tickets(app: Flask) -> list[Ticket]:
    with app.app_context():
        rows = list(db.session.scalars(select(Ticket).order_by(Ticket.id)))
        db.session.expunge_all()
        return rows


@pytest.mark.parametrize("subject", [ZWSP * 5, BOM * 4, f"{ZWSP} {BOM}\u2060 ", "\x00\x00\x00"])
def test_a_subject_with_nothing_visible_is_no_subject(app: Flask, po: FlaskClient, subject: str) -> None:
    response = file_form(po, subject=subject)
    assert response.status_code == 400 and "Give the request a subject." in response.text  # type: ignore[attr-defined]
    response = file_api(po, subject=subject)
    assert response.status_code == 422 and response.json["field"] == "subject"  # type: ignore[attr-defined]
    assert tickets(app) == []


def test_controls_and_overrides_are_dropped_from_a_request(app: Flask, po: FlaskClient) -> None:
    response = file_form(po, subject=f"Invoice\x00 {RLO}gpj.exe", description=f"Line one\x00\r\nline\t{RLO}two")
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    response = file_api(po, subject=f"Print\x00er {ZWSP}jam", description=f"A{RLO}B\n\x00C")
    assert response.status_code == 201, response.json  # type: ignore[attr-defined]
    first, second = tickets(app)
    assert (first.subject, first.description) == ("Invoice gpj.exe", "Line one\nline\ttwo")
    assert (second.subject, second.description) == ("Printer jam", "AB\nC")
    page = po.get(f"/requests/{first.id}").text
    assert "Invoice gpj.exe" in page and RLO not in page and "\x00" not in page


def test_nul_in_a_comment_and_in_a_token_name(app: Flask, po: FlaskClient) -> None:
    token = read_csrf_token(po, ARTICLE)
    assert po.post(
        f"{ARTICLE}/comments", data={"body": f"Th\x00anks{RLO}!\n\nBye", "csrf_token": token}
    ).status_code in (302, 303)
    assert po.post(f"{ARTICLE}/comments", data={"body": f"\x00{ZWSP}\n", "csrf_token": token}).status_code == 400
    token = read_csrf_token(po, "/account/tokens")
    assert po.post("/account/tokens", data={"name": f"back\x00up{RLO}", "csrf_token": token}).status_code == 201
    assert po.post("/account/tokens", data={"name": f"{ZWSP}{BOM}", "csrf_token": token}).status_code == 400
    with app.app_context():
        assert [c.body_md for c in db.session.scalars(select(Comment))] == ["Thanks!\n\nBye"]
        assert [t.name for t in db.session.scalars(select(ApiToken))] == ["backup"]


def test_a_name_of_hidden_characters_is_no_name(app: Flask) -> None:
    admin = make_user(app, role="state_admin", state="TX", agency="Travis County Probation", name="Tess Ward")
    client = app.test_client()
    assert sign_in(client, admin).status_code == 303
    with app.app_context():
        travis = db.session.scalars(select(Agency.id).where(Agency.name == "Travis County Probation")).one()

    def create(name: str, email: str) -> object:
        return client.post(
            "/admin/users/new",
            data={
                "name": name,
                "email": email,
                "role": "po",
                "agency": travis,
                "csrf_token": read_csrf_token(client, "/admin/users/new"),
            },
        )

    response = create(f"{ZWSP}{ZWSP}", "zed@tx.example.gov")
    assert response.status_code == 400 and "Enter the person&#39;s full name." in response.text  # type: ignore
    assert create(f"Eve {RLO}evoL", f"eve{ZWSP}@tx.example.gov").status_code in (302, 303)
    with app.app_context():
        names = {user.email: user.name for user in db.session.scalars(select(User))}
    assert "zed@tx.example.gov" not in names and names["eve@tx.example.gov"] == "Eve evoL"


def test_a_sign_in_address_with_a_zero_width_space(app: Flask, reporter: User) -> None:
    client = app.test_client()
    spaced = reporter.email.replace("@", f"{ZWSP}@")
    response = client.post(
        "/login",
        data={
            "email": spaced,
            "password": "correct horse battery staple",
            "csrf_token": read_csrf_token(client, "/login"),
        },
    )
    assert response.status_code == 303 and "/login" not in response.headers["Location"]
    other = app.test_client()
    response = other.post("/forgot", data={"email": f"{BOM}{spaced}", "csrf_token": read_csrf_token(other, "/forgot")})
    assert response.status_code == 200
    reset_queue(app).wait()
    with app.app_context():
        kinds = [(m.kind, m.recipient) for m in db.session.scalars(select(OutboxMessage))]
    assert ("password_reset", reporter.email) in kinds
