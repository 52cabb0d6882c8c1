"""Fixtures of the mail tests: outbox rows on the real test database, a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helpdesk.extensions import db
from helpdesk.mail.backends import SmtpBackend
from helpdesk.mail.delivery import Backend, DeliveryCounts, deliver_due
from helpdesk.mail.models import OutboxMessage
from tests.smtp_server import LoopbackSMTP

SENDER = "Helpdesk <helpdesk@example.org>"


def aware(moment: dt.datetime) -> dt.datetime:
    """Return `moment` as aware UTC (SQLite gives naive UTC datetimes back, PostgreSQL aware ones)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """The test configuration, with mail written under tmp_path and a small MAIL_MAX_ATTEMPTS."""
    return {
        **app_config,
        "MAIL_SERVER": "",
        "MAIL_DIR": tmp_path / "instance" / "mail",
        "MAIL_DEFAULT_SENDER": SENDER,
        "MAIL_MAX_ATTEMPTS": 3,
    }


@pytest.fixture
def sessions(app: Flask) -> sessionmaker[Session]:
    """A session factory on the app's database, for code that runs outside a request."""
    with app.app_context():
        return sessionmaker(db.engine, expire_on_commit=False)


@pytest.fixture
def add_mail(sessions: sessionmaker[Session]) -> Callable[..., int]:
    """Insert and commit one outbox row (defaults below, any column overridable); return its id."""

    def add(**columns: Any) -> int:
        token = secrets.token_hex(8)
        values = {
            "message_id": f"<{token}@helpdesk.test>",
            "recipient": "alice@example.org",
            "subject": f"Test mail {token}",
            "body_text": f"Hello {token}\n",
            "body_html": None,
            "kind": "test",
            **columns,
        }
        with sessions() as session, session.begin():
            row = OutboxMessage(**values)
            session.add(row)
            session.flush()
            return row.id

    return add


@pytest.fixture
def rows(sessions: sessionmaker[Session]) -> Callable[[], list[OutboxMessage]]:
    """Return the outbox rows as they are now in the database, by id."""

    def read() -> list[OutboxMessage]:
        with sessions() as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    return read


@pytest.fixture
def smtp() -> Iterator[LoopbackSMTP]:
    """A running SMTP server on loopback."""
    with LoopbackSMTP() as server:
        yield server


@pytest.fixture
def smtp_app(app: Flask, smtp: LoopbackSMTP) -> Flask:
    """The app, configured to send through `smtp`."""
    app.config.update(smtp.mail_config())
    return app


@pytest.fixture
def deliver(app: Flask, sessions: sessionmaker[Session]) -> Callable[..., DeliveryCounts]:
    """Run one `deliver_due` pass in an app context (Flask-Mail needs one), SMTP to the app's MAIL_* by default."""

    def run(backend: Backend | None = None, **options: Any) -> DeliveryCounts:
        options.setdefault("worker_id", "test")
        options.setdefault("max_attempts", app.config["MAIL_MAX_ATTEMPTS"])
        with app.app_context():
            return deliver_due(sessions, backend or SmtpBackend(app.config), **options)

    return run
