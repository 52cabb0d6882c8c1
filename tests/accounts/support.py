"""Helpers of the account security tests: read rows, follow mailed links, post the real forms."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from helpdesk.accounts.models import User
from helpdesk.accounts.reset_queue import reset_queue
from helpdesk.audit.models import AuditEvent
from helpdesk.extensions import db
from helpdesk.mail.models import OutboxMessage
from helpdesk.orm import Base
from tests.helpers import post_form

BASE_URL = "https://help.example.org"
#: The message every failed sign-in gets, whatever the reason.
GENERIC_FAILURE = "That e-mail address and password did not work"
SLUG = "errors-and-technical-support"
ARTICLE = f"/articles/{SLUG}"
_LINK = re.compile(r"https://help\.example\.org(/reset/([A-Za-z0-9_-]+))")

T = TypeVar("T")


def all_rows(app: Flask, model: type[T], *where: Any) -> list[T]:
    """Return the rows of `model` (optionally filtered) as they are in the database now, by id."""
    with app.app_context():
        query = select(model).where(*where).order_by(model.id)  # type: ignore[attr-defined]
        return list(db.session.scalars(query).unique())


def outbox(app: Flask, *, kind: str | None = None, to: str | None = None) -> list[OutboxMessage]:
    """Return the queued mail, optionally of one kind or to one recipient."""
    where = [OutboxMessage.kind == kind] if kind else []
    if to:
        where.append(OutboxMessage.recipient == to)
    return all_rows(app, OutboxMessage, *where)


def audit(app: Flask, action: str | None = None, **columns: Any) -> list[AuditEvent]:
    """Return the audit events, optionally of one action and with the given column values."""
    where = [AuditEvent.action == action] if action else []
    where.extend(getattr(AuditEvent, name) == value for name, value in columns.items())
    return all_rows(app, AuditEvent, *where)


def load_user(app: Flask, user_id: int) -> User:
    """Return the user as stored now."""
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        db.session.expunge(user)
        return user


def update_user(app: Flask, user_id: int, **values: Any) -> None:
    """Change stored columns of a user directly (test set-up only)."""
    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(**values))
        db.session.commit()


def every_stored_value(app: Flask, *, skip: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Return every non-null value of every table as text, by table name (tables in `skip` left out)."""
    found: dict[str, list[str]] = {}
    with app.app_context(), db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            found[table.name] = [str(v) for row in connection.execute(select(table)) for v in row if v is not None]
    return found


def attempt(client: FlaskClient, email: str, password: str, **options: Any) -> TestResponse:
    """Try to sign in with the real form."""
    return post_form(client, "/login", {"email": email, "password": password}, **options)


def ask_reset(client: FlaskClient, email: str, **options: Any) -> TestResponse:
    """Ask for a reset link on "What was my password again?" and wait until the request is handled."""
    response = post_form(client, "/forgot", {"email": email}, **options)
    handled(client)
    return response


def handled(client: FlaskClient) -> None:
    """Wait until the reset requests of the client's app are handled (they are, after the answer)."""
    reset_queue(client.application).wait()


def mailed_link(message: OutboxMessage) -> tuple[str, str]:
    """Return (path, raw token) of the single-use link in a mail; the link is always under BASE_URL."""
    match = _LINK.search(message.body_text)
    assert match, message.body_text
    return match.group(1), match.group(2)


def reset_link(app: Flask, client: FlaskClient, email: str) -> tuple[str, str]:
    """Ask for a reset link for `email` and return (path, raw token) of the newest mail."""
    response = ask_reset(client, email)
    assert response.status_code == 200, response.status_code
    return mailed_link(outbox(app, kind="password_reset", to=email)[-1])


def choose_password(
    client: FlaskClient, path: str, password: str, confirm: str | None = None, **extra: Any
) -> TestResponse:
    """Submit the set-password form of a link (extra fields are sent as they are)."""
    form_page = path if client.get(path).status_code == 200 else "/forgot"
    confirm = password if confirm is None else confirm
    return post_form(client, path, {"password": password, "confirm": confirm, **extra}, form_page=form_page)


def signed_in(client: FlaskClient) -> bool:
    """Return whether the client's session is signed in (a protected page answers, or sends to /login)."""
    response = client.get("/account")
    if response.status_code == 200:
        return True
    assert response.status_code == 302, response.status_code
    assert response.headers["Location"].startswith("/login"), response.headers["Location"]
    return False


def sign_out(client: FlaskClient) -> TestResponse:
    """Sign out with the real form."""
    return post_form(client, "/logout", {}, form_page="/privacy")


def wrong_code(secret: str) -> str:
    """Return a 6-digit code that the authenticator with `secret` does not accept now (nor one step off)."""
    totp = pyotp.TOTP(secret)
    candidate = 123456
    while totp.verify(f"{candidate:06d}", valid_window=1):
        candidate += 1
    return f"{candidate:06d}"
