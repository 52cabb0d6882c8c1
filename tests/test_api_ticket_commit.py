"""Filing through the API commits before the answer is built: the category's turn is not held while it is made."""

from __future__ import annotations

import zlib
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from helpdesk.accounts.api_tokens import create_api_token
from helpdesk.accounts.models import User
from helpdesk.api import tickets as api_tickets
from helpdesk.audit.services import Origin
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from tests.factories import make_user

pytestmark = pytest.mark.db


def test_the_filed_request_is_committed_and_its_turn_released_before_the_answer(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = make_user(app, role="po", state="TX", agency="Travis County Probation", name="Ana", email="ana@example.gov")
    with app.app_context():
        actor = db.session.get(User, ana.id)
        assert actor is not None
        token = create_api_token(db.session, actor=actor, name="script", origin=Origin())[1]
        db.session.commit()
    seen: list[tuple[list[int], bool]] = []
    real_ticket_json = api_tickets.ticket_json

    def answer_after_a_look(ticket: Ticket, viewer: User, *, events: bool) -> dict[str, Any]:
        with db.engine.connect() as other:  # another connection sees only what was committed
            committed = list(other.scalars(select(Ticket.id)))
            turn_free = True
            if other.dialect.name == "postgresql":  # the advisory lock of lock_category("login")
                key = zlib.crc32(b"login") & 0x7FFFFFFF
                turn_free = bool(other.scalar(text("SELECT pg_try_advisory_xact_lock(7301, :key)"), {"key": key}))
            other.rollback()
        seen.append((committed, turn_free))
        return real_ticket_json(ticket, viewer, events=events)

    monkeypatch.setattr(api_tickets, "ticket_json", answer_after_a_look)
    response = client.post(
        "/api/v1/tickets",
        json={"category": "login", "subject": "ICOTS will not let me in", "description": "It says denied."},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.get_json()
    assert response.status_code == 201 and body is not None, body
    assert seen == [([body["id"]], True)]
    assert [event["kind"] for event in body["events"]][:2] == ["submitted", "routed"]
