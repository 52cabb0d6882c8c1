"""Helpers of the ticket page tests: requests, form posts, rows (`login` is in tests/tickets/conftest.py)."""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.mail.models import OutboxMessage
from helpdesk.tickets.context import EXTENSION_KEY
from helpdesk.tickets.models import Ticket, TicketEvent
from helpdesk.tickets.submit import submit_ticket
from tests.helpers import META_TOKEN, read_csrf_token
from tests.tickets.conftest import ORIGIN, Org

Login = Callable[[str], FlaskClient]
_VERSION = re.compile(r'name="version" value="(\d+)"')


def file_request(app: Flask, org: Org, reporter: str = "ana", category: str = "login", **fields: Any) -> int:
    """File a request through the service (as the submit page does) and return its id."""
    values: dict[str, Any] = {
        "subject": "Cannot log in since Monday",
        "description": "The password is refused.",
        **fields,
    }
    with app.app_context():
        submission = submit_ticket(
            db.session,
            app.extensions[EXTENSION_KEY],
            reporter=org[reporter],
            category=category,
            idempotency_key=secrets.token_hex(16),
            origin=ORIGIN,
            **values,
        )
        db.session.commit()
        return submission.ticket.id


def ticket_row(app: Flask, ticket_id: int) -> Ticket:
    """Return the ticket as it is now in the database (detached)."""
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket is not None
        db.session.expunge(ticket)
        return ticket


def change(app: Flask, ticket_id: int, **columns: Any) -> None:
    """Set columns of a ticket directly (a state the services reach only by a sweep, e.g. closed)."""
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        for name, value in columns.items():
            setattr(ticket, name, value)
        db.session.commit()


def event_rows(app: Flask, ticket_id: int, kind: str | None = None) -> list[tuple[str, str | None, bool]]:
    """Return (kind, body, public) of a ticket's events, oldest first."""
    query = select(TicketEvent.kind, TicketEvent.body, TicketEvent.public).where(TicketEvent.ticket_id == ticket_id)
    if kind:
        query = query.where(TicketEvent.kind == kind)
    with app.app_context():
        return [(k, b, p) for k, b, p in db.session.execute(query.order_by(TicketEvent.id))]


def outbox(app: Flask, kind: str) -> list[str]:
    """Return the recipients of the queued mails of one kind, oldest first."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(OutboxMessage.recipient).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
            )
        )


def page(client: FlaskClient, ticket_id: int) -> str:
    """Return the request's page as text (asserting it answered 200)."""
    response = client.get(f"/requests/{ticket_id}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def seen_version(text: str) -> int:
    """Return the ticket version the page's forms carry."""
    match = _VERSION.search(text)
    assert match, "no version on the page"
    return int(match.group(1))


def _current_version(app: Flask, ticket_id: int) -> int:
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        return ticket.version if ticket is not None else 1


def act(client: FlaskClient, ticket_id: int, action: str, *, version: int | None = None, **fields: Any) -> Any:
    """Post an action of the request's page as the browser does: CSRF token and the version the page showed."""
    text = client.get(f"/requests/{ticket_id}").get_data(as_text=True)
    token = META_TOKEN.search(text)  # a 404 page carries the token too: it extends the base layout
    if version is None:  # a page without forms carries no version: post the current one (a right, not a race)
        version = seen_version(text) if _VERSION.search(text) else _current_version(client.application, ticket_id)
    csrf = token.group(1) if token else read_csrf_token(client)
    return client.post(f"/requests/{ticket_id}/{action}", data={"csrf_token": csrf, "version": version, **fields})


def text_of(response: Any) -> str:
    """Return a response's body with HTML entities decoded (apostrophes and quotes come escaped)."""
    return html.unescape(response.get_data(as_text=True))
