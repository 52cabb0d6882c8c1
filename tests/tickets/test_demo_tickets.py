"""The demo organisation's requests: loaded once (idempotent), routed by the real policy, a few already worked."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.extensions import db
from helpdesk.tickets.models import Incident, Ticket, TicketEvent
from tests.admin.test_demo import sign_in
from tests.helpers import read_csrf_token

pytestmark = pytest.mark.db


def _tickets(app: Flask) -> list[tuple[str, str, str, str, int | None]]:
    with app.app_context():
        return [
            (t.reporter.name, t.category, t.tier, t.status, t.incident_id)
            for t in db.session.scalars(select(Ticket).order_by(Ticket.id))
        ]


def test_demo_requests_are_loaded_once_and_show_every_path(app: Flask, runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["demo", "--json"]).exit_code == 0
    first = _tickets(app)
    assert runner.invoke(args=["demo", "--json"]).exit_code == 0
    assert _tickets(app) == first and len(first) == 7
    by_reporter = {name: (category, tier, status, incident) for name, category, tier, status, incident in first}
    assert by_reporter["Maria Alvarez"][:3] == ("login", "local_it", "new")
    # Three slow reports from Travis within the hour make one location incident.
    slow = {by_reporter[name][3] for name in ("James Carter", "Linda Nguyen", "Robert Hayes")}
    assert len(slow) == 1 and None not in slow
    assert by_reporter["Angela Price"][1] == "compact_office"  # Harris has no local IT users
    assert by_reporter["David Miller"][1:3] == ("compact_office", "new")  # escalated by Rachel Adams
    assert by_reporter["Brian Lewis"][1:3] == ("compact_office", "resolved")
    with app.app_context():
        [incident] = db.session.scalars(select(Incident))
        assert incident.scope == "location" and incident.report_count == 3
        kinds = {e.kind for e in db.session.scalars(select(TicketEvent))}
        assert {"escalated", "reply", "resolved"} <= kinds, kinds
        harris = db.session.scalars(select(Ticket).where(Ticket.subject == "Locked out of ICOTS")).one()
        assert "no local IT" in harris.route_reason


def test_demo_leaves_one_user_to_accept_the_privacy_policy(app: Flask, runner: FlaskCliRunner) -> None:
    table = runner.invoke(args=["demo"])
    assert table.exit_code == 0
    pending = [line for line in table.output.splitlines() if "privacy policy not accepted yet" in line]
    assert len(pending) == 1 and pending[0].startswith("james.carter@")
    users = {u["email"].split("@")[0]: u for u in json.loads(runner.invoke(args=["demo", "--json"]).output)["users"]}
    client = app.test_client()
    james = users["james.carter"]
    response = client.post(
        "/login",
        data={"email": james["email"], "password": james["password"], "csrf_token": read_csrf_token(client, "/login")},
    )
    assert response.status_code == 303
    asked = client.get("/account")
    assert asked.status_code == 302 and asked.headers["Location"].startswith("/privacy")
    token = read_csrf_token(client, "/privacy")
    assert client.post("/privacy", data={"accept": "y", "csrf_token": token}).status_code == 303
    assert client.get("/account").status_code == 200
    assert runner.invoke(args=["demo", "--json"]).exit_code == 0  # restored as defined: asked again
    with app.app_context():
        assert db.session.scalars(select(User).where(User.email == james["email"])).one().privacy_version is None


def test_demo_requests_are_held_by_named_people(app: Flask, runner: FlaskCliRunner) -> None:
    users = {u["email"].split("@")[0]: u for u in json.loads(runner.invoke(args=["demo", "--json"]).output)["users"]}
    with app.app_context():
        held = {t.subject: t.assignee.name for t in db.session.scalars(select(Ticket)) if t.assignee is not None}
    assert held == {
        "Cannot sign in after changing my password": "Kevin Brooks",
        "Case pages take a minute to open": "Kevin Brooks",
        "Locked out of ICOTS": "Susan Ortiz",
        "Error when I open a transfer request": "Steven Clark",
    }
    assert runner.invoke(args=["demo", "--json"]).exit_code == 0
    with app.app_context():
        assigned = db.session.scalars(select(TicketEvent).where(TicketEvent.kind == "assigned")).all()
    assert len(assigned) == 4  # idempotent: a second run assigns nothing again
    supervisor = sign_in(app, users["robert.hayes"])
    caseload = supervisor.get("/caseload").get_data(as_text=True)
    assert "Kevin Brooks" in caseload


def test_a_demo_state_administrator_sees_the_state_queue_read_only(app: Flask, runner: FlaskCliRunner) -> None:
    users = {u["email"].split("@")[0]: u for u in json.loads(runner.invoke(args=["demo", "--json"]).output)["users"]}
    page = sign_in(app, users["karen.walsh"]).get("/queue?status=all")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "read-only view" in html
    assert "Locked out of ICOTS" in html and "Error when I open a transfer request" not in html  # Texas only
