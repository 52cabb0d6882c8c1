"""The inactive-users report with bulk deactivation, and the audit trail (scoped, paginated, itself audited)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.audit.models import AuditEvent
from helpdesk.audit.services import SYSTEM, record_event
from helpdesk.extensions import db
from helpdesk.orm import utcnow
from tests.admin.conftest import FakeWork, fetch, post

pytestmark = pytest.mark.db

MakeUser = Callable[..., User]
Login = Callable[[User], FlaskClient]


def days_ago(days: int) -> dt.datetime:
    return utcnow() - dt.timedelta(days=days)


def test_inactive_report_and_bulk_deactivation(app: Flask, make_user: MakeUser, login: Login, work: FakeWork) -> None:
    admin = login(make_user(role="state_admin", state="TX"))
    away = make_user(state="TX", name="Ada Away", last_seen_at=days_ago(91))
    recent = make_user(state="TX", name="Rita Recent", last_seen_at=days_ago(89))
    never = make_user(state="TX", name="Nick Never", created_at=days_ago(200))
    busy = make_user(state="TX", name="Bea Busy", last_seen_at=days_ago(120))
    make_user(state="OH", name="Olga Ohio", last_seen_at=days_ago(300))
    work.items[busy.id] = ["T-9"]

    page = admin.get("/admin/inactive").get_data(as_text=True)
    assert "Users not seen for 90 days" in page
    for name in ("Ada Away", "Nick Never", "Bea Busy"):
        assert name in page
    assert "Rita Recent" not in page and "Olga Ohio" not in page
    assert "1 open" in page
    assert "Rita Recent" in admin.get("/admin/inactive?days=30").get_data(as_text=True)
    assert admin.get("/admin/inactive?days=0").status_code == 400

    response = post(
        admin,
        "/admin/inactive",
        {"user_ids": [away.id, never.id, busy.id, recent.id], "days": 90},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Deactivated 2 users" in html
    assert "Skipped Bea Busy" in html and "holds 1 open items" in html
    assert "Skipped Rita Recent" in html and "signed in within the last 90 days" in html
    assert not fetch(app, User, away.id).is_active and not fetch(app, User, never.id).is_active
    assert fetch(app, User, busy.id).is_active and fetch(app, User, recent.id).is_active
    assert work.items == {busy.id: ["T-9"]}

    assert post(admin, "/admin/inactive", {"days": 90}).status_code == 400  # nothing ticked
    assert post(admin, "/admin/inactive", {"user_ids": "abc", "days": 90}).status_code == 400


def test_national_inactive_report_covers_every_state(make_user: MakeUser, login: Login) -> None:
    admin = login(make_user(role="national_admin"))
    make_user(state="TX", name="Tom Texas", last_seen_at=days_ago(100))
    make_user(state="OH", name="Olga Ohio", last_seen_at=days_ago(100))
    everyone = admin.get("/admin/inactive").get_data(as_text=True)
    assert "Tom Texas" in everyone and "Olga Ohio" in everyone
    ohio = admin.get("/admin/inactive?state=OH").get_data(as_text=True)
    assert "Olga Ohio" in ohio and "Tom Texas" not in ohio


def add_events(app: Flask, state: str | None, action: str, number: int) -> None:
    with app.app_context():
        for index in range(number):
            record_event(
                db.session,
                action,
                origin=SYSTEM,
                actor_email=f"{action}-{index}@example.gov",
                state_code=state,
                detail=f"{action} number {index}",
            )
        db.session.commit()


def test_audit_trail_shows_only_the_actors_state_and_records_the_reading(
    app: Flask, make_user: MakeUser, login: Login
) -> None:
    texas_admin = make_user(role="state_admin", state="TX")
    admin = login(texas_admin)
    add_events(app, "TX", "tx_thing", 2)
    add_events(app, "OH", "oh_thing", 2)
    add_events(app, None, "national_thing", 1)
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "tx_thing number 1" in page and "tx_thing number 0" in page
    assert "oh_thing" not in page and "national_thing" not in page
    assert page.index("tx_thing number 1") < page.index("tx_thing number 0")  # newest first
    with app.app_context():
        viewed = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "audit_viewed")))
    assert [(e.actor_id, e.state_code) for e in viewed] == [(texas_admin.id, "TX")]

    only = admin.get("/admin/audit?action=sign_in").get_data(as_text=True)
    assert "tx_thing number" not in only and "sign_in" in only
    assert admin.get("/admin/audit?action=DROP%20TABLE").status_code == 400


def test_audit_trail_pages_and_national_view(app: Flask, make_user: MakeUser, login: Login) -> None:
    add_events(app, "TX", "bulk_thing", 60)
    add_events(app, "OH", "oh_thing", 1)
    admin = login(make_user(role="national_admin"))
    first = admin.get("/admin/audit?action=bulk_thing").get_data(as_text=True)
    assert "60 events" in first and "Page 1 of 2" in first and "bulk_thing number 59" in first
    assert "bulk_thing number 9<" not in first
    second = admin.get("/admin/audit?action=bulk_thing&page=2").get_data(as_text=True)
    assert "bulk_thing number 9<" in second and "bulk_thing number 59" not in second
    everything = admin.get("/admin/audit").get_data(as_text=True)
    assert "oh_thing number 0" in everything
    ohio = admin.get("/admin/audit?state=OH").get_data(as_text=True)
    assert "oh_thing number 0" in ohio and "bulk_thing" not in ohio
    with app.app_context():
        scopes = list(
            db.session.scalars(
                select(AuditEvent.state_code).where(AuditEvent.action == "audit_viewed").order_by(AuditEvent.id)
            )
        )
    assert scopes == [None, None, None, "OH"]
