"""Files sent with a reply (a screenshot asked for later): checked like the request's, saved with the reply or not."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from helpdesk.tickets.models import Attachment, TicketEvent
from tests.helpers import read_csrf_token
from tests.tickets.conftest import Org
from tests.tickets.test_web_attachments import SAMPLES, png, rows, stored
from tests.tickets.ticket_page_support import Login, file_request, page, seen_version

pytestmark = pytest.mark.db


def reply(client: FlaskClient, ticket_id: int, body: str, files: list[tuple[str, bytes]]) -> Any:
    """Post the page's reply form with the files, as the browser does (multipart)."""
    # The session's CSRF token; the version the page shows (a request the person cannot see: a forged form's guess).
    version = seen_version(page(client, ticket_id)) if client.get(f"/requests/{ticket_id}").status_code == 200 else 1
    values = MultiDict({"csrf_token": read_csrf_token(client), "version": version, "body": body})
    for name, content in files:
        values.add("attachments", FileStorage(io.BytesIO(content), filename=name))
    boundary, data = encode_multipart(values)
    return client.post(
        f"/requests/{ticket_id}/reply", data=data, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_the_reporter_sends_a_screenshot_with_a_reply(app: Flask, org: Org, login: Login) -> None:
    ticket_id = file_request(app, org, "ana", "error")
    client = login("ana")
    assert 'enctype="multipart/form-data"' in page(client, ticket_id)
    response = reply(
        client,
        ticket_id,
        "Here is the screenshot you asked for.",
        [("screen.png", png()), ("report.pdf", SAMPLES["report.pdf"][0])],
    )
    assert response.status_code == 303, response.get_data(as_text=True)[-800:]
    found = rows(app, Attachment)
    assert [(a.ticket_id, a.filename, a.uploader_id) for a in found] == [
        (ticket_id, "screen.png", org.users["ana"]),
        (ticket_id, "report.pdf", org.users["ana"]),
    ]
    assert len(stored(app)) == 2
    kinds = [e.kind for e in rows(app, TicketEvent) if e.ticket_id == ticket_id]
    assert kinds.count("reply") == 1 and kinds.count("attached") == 2
    text = page(login("pat"), ticket_id)  # local IT sees the files, with links to download them
    assert f'href="/requests/{ticket_id}/attachments/{found[0].id}"' in text and "report.pdf" in text
    assert "with 2 files" in page(client, ticket_id)  # the confirmation


def test_a_bad_file_saves_neither_the_reply_nor_any_file(app: Flask, org: Org, login: Login) -> None:
    ticket_id = file_request(app, org, "ana", "error")
    before = [e.id for e in rows(app, TicketEvent)]
    response = reply(
        login("ana"),
        ticket_id,
        "My reply, typed with care.",
        [("screen.png", png()), ("setup.png", b"MZ\x90\x00" + b"\x00" * 64)],
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "setup.png" in text
    assert "My reply, typed with care.</textarea>" in text  # nothing the person typed is lost
    assert [e.id for e in rows(app, TicketEvent)] == before and not rows(app, Attachment) and not stored(app)


def test_someone_who_may_not_reply_cannot_attach(app: Flask, org: Org, login: Login) -> None:
    ticket_id = file_request(app, org, "ana", "error")
    assert reply(login("ben"), ticket_id, "Not mine.", [("screen.png", png())]).status_code == 404
    assert not rows(app, Attachment) and not stored(app)


def test_too_much_at_once_is_a_413_that_says_what_to_do(app: Flask, org: Org, login: Login) -> None:
    ticket_id = file_request(app, org, "ana", "error")
    big = b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024 - 100)
    response = reply(login("ana"), ticket_id, "Six large files.", [(f"part{n}.pdf", big) for n in range(6)])
    assert response.status_code == 413 and "attach at most 5 files" in response.get_data(as_text=True)
    assert not rows(app, Attachment) and not stored(app)


def test_a_download_is_audited(app: Flask, org: Org, login: Login) -> None:
    from sqlalchemy import select

    from helpdesk.audit.models import AuditEvent
    from helpdesk.extensions import db

    ticket_id = file_request(app, org, "ana", "error")
    assert reply(login("ana"), ticket_id, "The screenshot.", [("screen.png", png())]).status_code == 303
    [found] = rows(app, Attachment)
    response = login("pat").get(f"/requests/{ticket_id}/attachments/{found.id}")
    response.close()  # the file it streams
    assert response.status_code == 200
    with app.app_context():
        [row] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "ticket_attachment_read")).all()
    assert (row.actor_id, row.target_id, row.detail) == (
        org.users["pat"],
        str(ticket_id),
        f"attachment {found.id}: screen.png",
    )
