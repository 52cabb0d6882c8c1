"""The counts behind incidents: each window read in one query, open incidents of both scopes, concurrent reports."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Callable

import pytest
import time_machine
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from helpdesk.extensions import db
from helpdesk.tickets.context import Triage
from helpdesk.tickets.incidents import open_incidents, recent_reports
from helpdesk.tickets.models import Incident, Ticket
from helpdesk.tickets.submit import Submission
from tests.tickets.conftest import TULSA, Org, file_report, submit_together

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI


def test_each_window_counts_only_its_own_reports(
    session: Session,
    org: Org,
    triage: Triage,
    submit: Callable[..., Submission],
    clock: time_machine.Traveller,
) -> None:
    policy = dataclasses.replace(
        triage.policy,
        location=dataclasses.replace(triage.policy.location, window=dt.timedelta(minutes=30)),
        system=dataclasses.replace(triage.policy.system, window=dt.timedelta(minutes=120)),
    )
    submit(org["olga"], "access")  # another category: never counted
    submit(org["ana"])  # Travis, 100 minutes before: only in the system window
    clock.shift(dt.timedelta(minutes=60))
    submit(org["olga"])  # Tulsa, 40 minutes before: system window only (another agency)
    clock.shift(dt.timedelta(minutes=20))
    submit(org["ben"])  # Travis, 20 minutes before: both windows
    clock.shift(dt.timedelta(minutes=20))
    session.flush()
    now = dt.datetime.now(dt.UTC)
    travis = org["ana"].agency_id
    same, origins = recent_reports(session, policy, agency_id=travis, category="login", now=now)
    assert same == 1
    assert sorted(origins) == sorted([(travis, "TX"), (org.agencies[TULSA], "OK")])
    narrow = dataclasses.replace(policy, system=dataclasses.replace(policy.system, window=dt.timedelta(minutes=10)))
    assert recent_reports(session, narrow, agency_id=travis, category="login", now=now) == (1, ())
    assert recent_reports(session, policy, agency_id=travis, category="access", now=now) == (0, ())


def test_open_incidents_are_this_agencys_and_the_systems(
    session: Session, org: Org, submit: Callable[..., Submission]
) -> None:
    assert open_incidents(session, "login", org["ana"].agency_id) == (None, None)
    location = [submit(org[name]).ticket for name in ("ana", "ben", "dee")][-1]
    tulsa = org["olga"].agency_id
    assert open_incidents(session, "login", tulsa) == (None, None)  # Travis's incident is not Tulsa's
    travis_incident = session.get(Incident, location.incident_id)
    assert open_incidents(session, "login", org["ana"].agency_id) == (travis_incident, None)
    system = [submit(org[name], "error").ticket for name in ("ana", "olga", "nina")][-1]
    system_incident = session.get(Incident, system.incident_id)
    assert system_incident is not None and system_incident.scope == "system"
    assert open_incidents(session, "error", tulsa) == (None, system_incident)
    assert open_incidents(session, "slow", tulsa) == (None, None)
    assert travis_incident is not None
    travis_incident.closed_at = dt.datetime.now(dt.UTC)
    assert open_incidents(session, "login", org["ana"].agency_id) == (None, None)


def test_reports_arriving_together_are_counted_one_at_a_time(
    app: Flask, org: Org, triage: Triage, sessions: sessionmaker[Session]
) -> None:
    submit_together(sessions, triage, org, [(name, secrets.token_hex(16)) for name in ("ana", "ben", "dee")])
    with sessions() as session:
        incidents = list(session.scalars(select(Incident)))
        assert [(i.scope, i.report_count) for i in incidents] == [("location", 3)]  # the third saw the other two
        assert session.scalar(select(func.count(Ticket.id)).where(Ticket.incident_id == incidents[0].id)) == 3


def test_a_report_of_a_personal_category_takes_no_turn(
    app: Flask, org: Org, triage: Triage, sessions: sessionmaker[Session]
) -> None:
    with app.app_context():
        statements: list[str] = []
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        for category in ("access", "login"):
            file_report(sessions, triage, org, "ana", category)
            locks = [s for s in statements if "pg_advisory_xact_lock" in s]
            statements.clear()
            # Only incident categories count earlier reports (under a lock on PostgreSQL; SQLite writes one at a time).
            expected = 1 if category == "login" and db.engine.dialect.name == "postgresql" else 0
            assert len(locks) == expected


def test_the_turn_of_a_report_covers_only_what_depends_on_the_counts(
    app: Flask, org: Org, triage: Triage, sessions: sessionmaker[Session]
) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("only PostgreSQL takes a turn (SQLite writes one transaction at a time)")
        statements: list[str] = []
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        for name in ("ana", "ben", "dee"):  # the third opens an incident
            statements.clear()
            file_report(sessions, triage, org, name)
            turn = next(n for n, s in enumerate(statements) if "pg_advisory_xact_lock" in s)
            # The row and its SAVEPOINT (the idempotency check) are written before: reports queue only for the counts.
            assert any(s.startswith("INSERT INTO ticket ") for s in statements[:turn])
            assert not any("SAVEPOINT" in s or s.startswith("INSERT INTO ticket ") for s in statements[turn:])
    with sessions() as session:
        assert [(i.scope, i.report_count) for i in session.scalars(select(Incident))] == [("location", 3)]
