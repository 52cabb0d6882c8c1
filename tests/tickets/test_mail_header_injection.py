"""Issue 8 item 1: an RFC 2047 encoded-word in a subject, a name or an agency name never adds a header or a body.

Every mail the payload reaches goes out through both real backends: the `.eml` file (with its console line) and
SMTP to a server on loopback. The Python standard library before 3.11.10 / 3.12.5 decodes and re-emits such words
(CVE-2024-6923): these tests pass only when the app builds the headers itself, whatever the interpreter.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.mail.backends import FileBackend, SmtpBackend
from helpdesk.mail.delivery import OutgoingMail
from helpdesk.mail.models import OutboxMessage
from helpdesk.tickets.context import EXTENSION_KEY
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.submit import submit_ticket
from helpdesk.tickets.workflow import reply_ticket
from tests import factories
from tests.helpers import read_csrf_token
from tests.smtp_server import LoopbackSMTP, Received
from tests.tickets.conftest import ORIGIN, Org
from tests.tickets.ticket_page_support import Login

pytestmark = pytest.mark.db

#: The exact payload of the report.
PAYLOAD = (
    "Printer =?utf-8?q?=0D=0ABcc:_attacker@evil.example=0D=0AContent-Type:_text/plain=0D=0A=0D=0A"
    "Your_password_expired._Sign_in_at_http://evil.example/login?="
)
#: The same attack within the 120 characters a person's or an agency's name may have.
NAME_PAYLOAD = (
    "Printer =?utf-8?q?=0D=0ABcc:_attacker@evil.example=0D=0AContent-Type:_text/plain=0D=0A=0D=0A"
    "Your_password_expired.?="
)
SENDER = "Helpdesk <helpdesk@example.org>"
HEADERS = {"from", "to", "subject", "date", "message-id", "mime-version", "content-type", "content-transfer-encoding"}


@dataclass(frozen=True)
class Delivered:
    """One outbox row as the file backend wrote it and as the SMTP server received it."""

    row: OutboxMessage
    eml: bytes
    notice: str
    smtp: Received


def deliver_everywhere(app: Flask, tmp_path: Path, kinds: set[str]) -> list[Delivered]:
    """Send every queued mail of `kinds` through the file backend and through SMTP on loopback."""
    stream = io.StringIO()
    files = FileBackend(tmp_path / "eml", SENDER, stream=stream)
    delivered = []
    with LoopbackSMTP() as server, app.app_context():
        rows = [
            row for row in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)) if row.kind in kinds
        ]
        assert {row.kind for row in rows} == kinds
        smtp = SmtpBackend({**app.config, **server.mail_config(), "MAIL_DEFAULT_SENDER": SENDER})
        for number, row in enumerate(rows):
            mail = OutgoingMail(row.id, row.message_id, row.recipient, row.subject, row.body_text, row.body_html, 0)
            files.send(mail)
            smtp.send(mail)
            server.wait_for(number + 1)
            [path] = [p for p in (tmp_path / "eml").glob(f"*-{row.id}.eml")]
            delivered.append(Delivered(row, path.read_bytes(), stream.getvalue().splitlines()[-1], server.received[-1]))
        smtp.close()
        assert len(stream.getvalue().splitlines()) == len(rows)  # one console line per mail, never more
    return delivered


def assert_clean(item: Delivered) -> None:
    """The mail has exactly our headers, our body, one recipient; the console line shows the subject on one line."""
    for raw, label in ((item.eml, "eml"), (item.smtp.raw.replace(b"\r\n", b"\n"), "smtp")):
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        names = [name.lower() for name in message]
        assert set(names) <= HEADERS and len(names) == len(set(names)), (label, names, raw[:800])
        assert {"from", "to", "subject", "message-id", "content-type"} <= set(names)
        assert message["Bcc"] is None and len(message.get_all("Content-Type") or []) == 1
        assert message["To"] == item.row.recipient
        subject = str(message["Subject"])
        assert "\n" not in subject and "\r" not in subject
        assert ("Printer" in subject) == ("Printer" in item.row.subject)
        assert "evil.example" not in raw.split(b"\n\n", 1)[0].decode("ascii")  # the words are ours, not the user's
        text = message.get_body(("plain",))
        assert text is not None and text.get_content().replace("\r\n", "\n") == item.row.body_text
        assert "Your password expired" not in raw.decode("utf-8", "replace")  # no fake body anywhere
        header_lines = raw.split(b"\n\n", 1)[0].splitlines()
        assert not any(line.lower().startswith((b"bcc", b"content-type: text/plain")) for line in header_lines)
    assert item.smtp.rcpt_tos == [item.row.recipient]
    assert item.notice.startswith(f"[mail] to {item.row.recipient}: ")
    assert ("Printer" in item.notice) == ("Printer" in item.row.subject)


def test_the_payload_as_a_subject_through_the_api_and_the_form(
    app: Flask, org: Org, login: Login, tmp_path: Path
) -> None:
    client = login("ana")
    response = client.post(
        "/api/v1/tickets",
        headers={"X-CSRFToken": read_csrf_token(client, "/requests/new")},
        json={"category": "login", "subject": PAYLOAD, "description": "It is jammed."},
    )
    assert response.status_code == 201, response.json
    page = client.get("/requests/new").text
    key = page.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/requests/new",
        data={
            "csrf_token": read_csrf_token(client, "/requests/new"),
            "idempotency_key": key,
            "category": "error",
            "subject": PAYLOAD,
            "description": "Still jammed.",
            "tried": "",
            "affected": "me",
            "suggestions": "",
        },
    )
    assert response.status_code in (302, 303), response.text[:500]
    with app.app_context():
        assert [t.subject for t in db.session.scalars(select(Ticket))] == [PAYLOAD, PAYLOAD]  # kept as typed
    delivered = deliver_everywhere(app, tmp_path, {"ticket_new", "ticket_received"})
    assert len(delivered) == 8  # to Pat, Lee and the Travis IT mailbox, and to Ana, for each request
    for item in delivered:
        assert_clean(item)


def test_the_payload_as_a_persons_name_and_an_agency_name(app: Flask, org: Org, tmp_path: Path) -> None:
    agency = NAME_PAYLOAD
    assert len(NAME_PAYLOAD) <= 120
    factories.make_user(app, role="local_it", state="TX", agency=agency, name="Ivy Moss", email="ivy@tx.example.gov")
    reporter = factories.make_user(
        app, role="po", state="TX", agency=agency, name=NAME_PAYLOAD, email="pay@tx.example.gov"
    )
    with app.app_context():
        triage = app.extensions[EXTENSION_KEY]
        person = db.session.get(type(org["ana"]), reporter.id)
        tickets = [
            submit_ticket(
                db.session,
                triage,
                reporter=person,
                category="login",
                subject=f"Locked out {n}",
                description="Refused.",
                idempotency_key=secrets.token_hex(16),
                origin=ORIGIN,
            ).ticket
            for n in range(3)
        ]  # the third report from one agency in an hour opens an incident
        db.session.flush()
        reply_ticket(
            db.session,
            triage,
            tickets[0],
            actor=person,
            body="Any news?",
            expected_version=tickets[0].version,
            origin=ORIGIN,
        )
        db.session.commit()
    delivered = deliver_everywhere(app, tmp_path, {"ticket_new", "ticket_received", "ticket_incident", "ticket_reply"})
    subjects = {item.row.kind: item.row.subject for item in delivered}
    assert subjects["ticket_incident"].startswith("Incident at Printer")
    assert subjects["ticket_reply"].startswith("[Request #") and "Printer" in subjects["ticket_reply"]
    for item in delivered:
        assert_clean(item)
