"""The demo organisation's requests: loaded once (idempotent), routed by the real policy, a few already worked."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.tickets.models import Incident, Ticket, TicketEvent

pytestmark = pytest.mark.db


def _tickets(app: Flask) -> list[tuple[str, str, str, str, int | None]]:
    with app.app_context():
        return [(t.reporter.name, t.category, t.tier, t.status, t.incident_id)
                for t in db.session.scalars(select(Ticket).order_by(Ticket.id))]


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
