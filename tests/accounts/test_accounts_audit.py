"""Audit trail: one row per security event with who, what, outcome, where and UTC time; append-only; no secrets."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from helpdesk.audit.models import AuditEvent
from helpdesk.extensions import db
from helpdesk.orm import utcnow
from tests.accounts.support import (
    ARTICLE,
    all_rows,
    ask_reset,
    attempt,
    audit,
    choose_password,
    every_stored_value,
    mailed_link,
    outbox,
    sign_out,
)
from tests.factories import PASSWORD, make_user, sign_in
from tests.helpers import post_form

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI

OFFICE = "203.0.113.41"
BROWSER = "AuditTest/1.0 (security suite)"
NEW_PASSWORD = "seven quiet herons over the marsh"
WRONG = "definitely the wrong password"


@pytest.fixture
def office(app: Flask) -> FlaskClient:
    """A client with a known address and browser."""
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=OFFICE, HTTP_USER_AGENT=BROWSER)
    return client


def assert_event(event: AuditEvent, *, outcome: str, actor_id: int | None, started: dt.datetime) -> None:
    assert (event.outcome, event.actor_id, event.ip, event.user_agent) == (outcome, actor_id, OFFICE, BROWSER)
    assert event.created_at.utcoffset() == dt.timedelta(0)  # UTC
    assert started - dt.timedelta(seconds=1) <= event.created_at <= utcnow() + dt.timedelta(seconds=1)


def test_sign_in_success_and_failure_are_audited(app: Flask, office: FlaskClient) -> None:
    user = make_user(app)
    started = utcnow()
    attempt(office, user.email, WRONG)
    attempt(office, "stranger@tx.example.gov", WRONG)
    attempt(office, user.email, PASSWORD)
    wrong, unknown, ok = audit(app, "sign_in")
    assert_event(wrong, outcome="failure", actor_id=user.id, started=started)
    assert_event(unknown, outcome="failure", actor_id=None, started=started)
    assert unknown.actor_email == "stranger@tx.example.gov"  # the attempted name, for failures
    assert_event(ok, outcome="success", actor_id=user.id, started=started)
    sign_out(office)
    [out] = audit(app, "sign_out")
    assert_event(out, outcome="success", actor_id=user.id, started=started)


def test_lockout_is_audited(app: Flask, office: FlaskClient) -> None:
    user = make_user(app)
    started = utcnow()
    for _ in range(5):
        attempt(office, user.email, WRONG)
    [event] = audit(app, "account_locked")
    assert_event(event, outcome="success", actor_id=user.id, started=started)
    assert (event.target_type, event.target_id) == ("user", str(user.id))
    attempt(office, user.email, PASSWORD)
    assert audit(app, "sign_in")[-1].detail == "locked"  # the reason stays in the trail, not on the page


def test_reset_request_use_and_bad_links_are_audited(app: Flask, office: FlaskClient) -> None:
    user = make_user(app)
    started = utcnow()
    ask_reset(office, user.email)
    ask_reset(office, "stranger@tx.example.gov")
    path, _raw = mailed_link(outbox(app, kind="password_reset")[0])
    choose_password(office, path, NEW_PASSWORD)
    office.get(path)  # spent
    office.get("/reset/made-up-token")
    mailed, ignored = audit(app, "password_reset_requested")
    assert_event(mailed, outcome="success", actor_id=user.id, started=started)
    assert_event(ignored, outcome="ignored", actor_id=None, started=started)
    [used] = audit(app, "password_reset")
    assert_event(used, outcome="success", actor_id=user.id, started=started)
    bad = audit(app, "password_link_opened")
    assert len(bad) == 2
    for event in bad:
        assert_event(event, outcome="failure", actor_id=None, started=started)


def test_privacy_acceptance_and_moderation_are_audited(app: Flask, office: FlaskClient) -> None:
    author = make_user(app)
    moderator = make_user(app, role="compact_office", privacy=False)
    started = utcnow()
    writer = office.application.test_client()
    post_form(writer, "/login", {"email": author.email, "password": PASSWORD})
    post_form(writer, f"{ARTICLE}/comments", {"body": "A comment to hide"}, form_page=ARTICLE)
    sign_in(office, moderator)
    post_form(office, "/privacy?next=/", {"accept": "y"}, form_page="/privacy")
    [accepted] = audit(app, "privacy_accepted")
    assert_event(accepted, outcome="success", actor_id=moderator.id, started=started)
    [added] = audit(app, "comment_added")
    post_form(office, f"/comments/{added.target_id}/hide", {"reason": "off topic"}, form_page=ARTICLE)
    [hidden] = audit(app, "comment_hidden")
    assert_event(hidden, outcome="success", actor_id=moderator.id, started=started)
    assert (hidden.target_type, hidden.target_id, hidden.detail) == ("comment", added.target_id, "off topic")


def test_a_forged_forwarded_for_is_not_the_recorded_address(app: Flask, office: FlaskClient) -> None:
    attempt(office, "stranger@tx.example.gov", WRONG, headers={"X-Forwarded-For": "10.6.6.6", "X-Real-IP": "10.6.6.6"})
    [event] = audit(app, "sign_in")
    assert event.ip == OFFICE


def test_a_typed_line_break_cannot_forge_a_second_line(app: Flask, office: FlaskClient) -> None:
    attempt(office, "a@tx.example.gov\nFAKE sign_in success admin@tx.example.gov", WRONG)
    attempt(office, "x" * 300 + "@tx.example.gov", WRONG)  # longer than an address can be: refused by the form
    [event] = audit(app, "sign_in")
    assert "\n" not in (event.actor_email or "") and "\r" not in (event.actor_email or "")


def test_the_trail_cannot_be_changed_or_deleted(app: Flask, office: FlaskClient) -> None:
    attempt(office, "stranger@tx.example.gov", WRONG)
    with app.app_context():
        event = db.session.get(AuditEvent, audit(app)[0].id)
        assert event is not None
        event.outcome = "success"
        with pytest.raises(PermissionError):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEvent, event.id))
        with pytest.raises(PermissionError):
            db.session.commit()
        db.session.rollback()
    [event] = audit(app)
    assert event.outcome == "failure"


def test_bulk_statements_cannot_change_the_trail_either(app: Flask, office: FlaskClient) -> None:
    # The ORM events do not see bulk statements: the database itself refuses them (a trigger).
    attempt(office, "stranger@tx.example.gov", WRONG)
    with app.app_context():
        for statement in (update(AuditEvent).values(outcome="success"), delete(AuditEvent)):
            with pytest.raises(DBAPIError):
                db.session.execute(statement)
                db.session.commit()
            db.session.rollback()
    [event] = audit(app)
    assert event.outcome == "failure"


def test_no_secret_reaches_the_trail_or_the_log(
    app: Flask, office: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = make_user(app)
    attempt(office, user.email, WRONG)
    ask_reset(office, user.email)
    path, raw = mailed_link(outbox(app, kind="password_reset")[0])
    choose_password(office, path, NEW_PASSWORD, confirm=NEW_PASSWORD + " typo")
    choose_password(office, path, NEW_PASSWORD)
    attempt(office, user.email, NEW_PASSWORD)
    cookie = office.get_cookie("session")
    assert cookie is not None
    secrets = {
        "old password": PASSWORD,
        "wrong password": WRONG,
        "new password": NEW_PASSWORD,
        "token": raw,
        "session cookie": cookie.value,
    }
    trail = " | ".join(every_stored_value(app)["audit_event"])
    assert len(all_rows(app, AuditEvent)) >= 4
    logged = caplog.text
    for name, secret in secrets.items():
        assert secret not in trail, name
        assert secret not in logged, name


def test_denied_access_is_audited(app: Flask, office: FlaskClient) -> None:
    user = make_user(app, role="po")
    sign_in(office, user)
    started = utcnow()
    assert office.get("/admin/users").status_code == 403  # a PO is no administrator
    assert office.get("/queue").status_code == 403  # nor has a queue
    denied = audit(app, "access_denied")
    assert [event.detail for event in denied] == ["GET /admin/users", "GET /queue"]
    for event in denied:
        assert_event(event, outcome="failure", actor_id=user.id, started=started)
        assert (event.actor_email, event.state_code) == (user.email, "TX")
