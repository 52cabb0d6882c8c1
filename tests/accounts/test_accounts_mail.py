"""Account mail end to end: queued in the transaction of the change, delivered by `mail deliver` over real SMTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from helpdesk.accounts.auth import request_password_reset
from helpdesk.accounts.models import UserToken
from helpdesk.audit.services import SYSTEM
from helpdesk.extensions import db
from helpdesk.mail.models import OutboxMessage
from helpdesk.orm import utcnow
from tests.accounts.support import BASE_URL, ask_reset, attempt, choose_password, outbox
from tests.factories import make_user
from tests.smtp_server import LoopbackSMTP

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI

NEW_PASSWORD = "nine copper kites above the harbour"


@pytest.fixture
def smtp() -> Iterator[LoopbackSMTP]:
    with LoopbackSMTP() as server:
        yield server


def test_a_reset_mail_travels_over_smtp_and_its_link_works(make_app: Callable[..., Flask], smtp: LoopbackSMTP) -> None:
    app = make_app(**smtp.mail_config(), MAIL_DEFAULT_SENDER="Helpdesk <helpdesk@example.org>")
    if "mail" not in app.cli.commands:
        pytest.skip("no `mail deliver` command in this version of the app")
    user = make_user(app)
    client = app.test_client()
    assert ask_reset(client, user.email).status_code == 200
    assert smtp.received == []  # nothing is sent during the request
    result = app.test_cli_runner().invoke(args=["mail", "deliver"])
    assert result.exit_code == 0, result.output
    [message] = smtp.wait_for(1)
    assert smtp.received[0].rcpt_tos == [user.email] and message["To"] == user.email
    assert message["Subject"] == "Your Helpdesk password link"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = next(word for word in text.split() if word.startswith(f"{BASE_URL}/reset/"))
    assert [m.status for m in outbox(app)] == ["sent"]
    path = link.removeprefix(BASE_URL)
    assert choose_password(client, path, NEW_PASSWORD).status_code == 303
    assert attempt(app.test_client(), user.email, NEW_PASSWORD).status_code == 303


def test_no_mail_without_the_change_that_caused_it(app: Flask) -> None:
    user = make_user(app)
    policy = app.extensions["helpdesk.account_policy"]
    with app.app_context():
        request_password_reset(db.session, user.email, origin=SYSTEM, now=utcnow(), policy=policy)
        assert db.session.scalars(select(OutboxMessage)).all()  # queued in this transaction...
        db.session.rollback()  # ...which then fails
    assert outbox(app) == []
    with app.app_context():
        assert db.session.scalars(select(UserToken)).all() == []


def test_an_unreachable_mail_server_does_not_slow_or_break_the_page(make_app: Callable[..., Flask]) -> None:
    from tests.smtp_server import free_port

    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT=5)
    user = make_user(app)
    started = utcnow()
    assert ask_reset(app.test_client(), user.email).status_code == 200
    assert utcnow() - started < dt.timedelta(seconds=2)
    [message] = outbox(app)
    assert (message.status, message.attempts, message.kind) == ("pending", 0, "password_reset")
