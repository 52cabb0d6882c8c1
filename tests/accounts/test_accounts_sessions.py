"""Sessions: server-side idle and absolute limits, revocation at deactivation and role change, safe cookies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from helpdesk.accounts.models import User
from helpdesk.accounts.services import change_role, deactivate_user
from helpdesk.audit.services import SYSTEM
from helpdesk.extensions import db
from helpdesk.orm import utcnow
from tests.accounts.support import attempt, audit, sign_out, signed_in
from tests.factories import PASSWORD, make_user, sign_in
from tests.helpers import csrf_of, post_form

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI


def set_cookie_headers(response: TestResponse, name: str) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]


def test_a_deactivated_user_is_out_at_the_next_request(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    assert sign_in(client, user).status_code == 303 and signed_in(client)
    with app.app_context():
        deactivate_user(db.session, db.session.get(User, user.id), actor=None, origin=SYSTEM, now=utcnow())
        db.session.commit()
    assert not signed_in(client)
    assert attempt(client, user.email, PASSWORD).status_code == 200
    [event] = audit(app, "user_deactivated")
    assert (event.target_id, event.actor_email) == (str(user.id), "cli")


def test_a_role_change_ends_the_session(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, role="po")
    assert sign_in(client, user).status_code == 303
    with app.app_context():
        change_role(db.session, db.session.get(User, user.id), "po_supervisor", actor=None, origin=SYSTEM)
        db.session.commit()
    assert not signed_in(client)
    assert sign_in(client, user).status_code == 303 and signed_in(client)  # a new sign-in gets the new role
    [event] = audit(app, "role_changed")
    assert (event.target_id, event.detail) == (str(user.id), "po -> po_supervisor")


def test_idle_sessions_end_after_thirty_minutes(app: Flask, client: FlaskClient, clock: time_machine.Traveller) -> None:
    user = make_user(app)
    sign_in(client, user)
    clock.shift(dt.timedelta(minutes=29))
    assert signed_in(client)  # and the activity counts
    clock.shift(dt.timedelta(minutes=29))
    assert signed_in(client)
    clock.shift(dt.timedelta(minutes=31))
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert not signed_in(client)


def test_an_api_call_on_an_ended_session_gets_a_json_401(
    app: Flask, client: FlaskClient, clock: time_machine.Traveller
) -> None:
    sign_in(client, make_user(app))
    assert client.get("/api/v1/tickets").status_code == 200
    clock.shift(dt.timedelta(minutes=31))
    response = client.get("/api/v1/tickets")
    assert response.status_code == 401 and response.json == {
        "error": "session_expired",
        "message": "Your session has ended: sign in again.",
    }
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert not signed_in(client)


def test_sessions_end_after_twelve_hours_even_when_busy(
    app: Flask, client: FlaskClient, clock: time_machine.Traveller
) -> None:
    user = make_user(app)
    sign_in(client, user)
    for _ in range(12 * 6 - 1):  # a request every 10 minutes until 11:50
        clock.shift(dt.timedelta(minutes=10))
        assert signed_in(client)
    clock.shift(dt.timedelta(minutes=10, seconds=1))  # 12 h and 1 s after signing in
    assert not signed_in(client)


def test_an_old_cookie_replayed_after_the_idle_limit_is_refused(
    app: Flask, client: FlaskClient, clock: time_machine.Traveller
) -> None:
    user = make_user(app)
    sign_in(client, user)
    stolen = client.get_cookie("session")
    assert stolen is not None
    clock.shift(dt.timedelta(minutes=31))
    thief = app.test_client()
    thief.set_cookie("session", stolen.value)
    assert not signed_in(thief)


def test_the_pre_sign_in_session_does_not_carry_over(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        before_csrf = session["csrf_token"]
    before = client.get_cookie("session")
    assert before is not None
    assert sign_in(client, user).status_code == 303
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != before_csrf
    assert client.get_cookie("session").value != before.value  # type: ignore[union-attr]
    victim = app.test_client()  # whoever fixed the pre-sign-in cookie is not signed in by it
    victim.set_cookie("session", before.value)
    assert not signed_in(victim)


@pytest.mark.parametrize("secure", [False, True])
def test_the_session_cookie_is_httponly_lax_and_secure_when_asked(make_app: Callable[..., Flask], secure: bool) -> None:
    app = make_app(SESSION_COOKIE_SECURE=secure)
    user = make_user(app)
    client = app.test_client()
    page = client.get("/login", base_url="https://help.example.org").get_data(as_text=True)
    response = client.post(
        "/login",
        base_url="https://help.example.org",
        headers={"Referer": "https://help.example.org/login"},  # Flask-WTF checks it on https
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_of(page)},
    )
    assert response.status_code == 303
    [cookie] = set_cookie_headers(response, "session")
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "httponly" in attributes and attributes["samesite"] == "SameSite=Lax"
    assert ("secure" in attributes) is secure
    assert "domain" not in attributes  # host-only


def test_no_remember_me_cookie_is_ever_set(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    response = post_form(
        client, "/login", {"email": user.email, "password": PASSWORD, "remember": "y", "remember_me": "y"}
    )
    assert response.status_code == 303
    for header in response.headers.getlist("Set-Cookie"):
        assert not header.startswith("remember_token=") or "Max-Age=0" in header, header
    assert client.get_cookie("remember_token") is None
    assert client.get("/account").status_code == 200
    assert client.get_cookie("remember_token") is None


def test_a_changed_browser_loses_the_session(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    sign_in(client, user)
    assert signed_in(client)
    client.environ_base["HTTP_USER_AGENT"] = "Another browser/1.0"
    assert not signed_in(client)


def test_signed_in_pages_are_not_cached(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    sign_in(client, user)
    for path in ("/account", "/", "/articles/errors-and-technical-support"):
        response = client.get(path)
        assert response.status_code == 200
        assert "no-store" in response.headers["Cache-Control"] and "Cookie" in response.headers["Vary"], path


def test_sign_out_is_post_only_and_ends_the_session(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    sign_in(client, user)
    assert client.get("/logout").status_code == 405
    assert signed_in(client)
    response = sign_out(client)
    assert response.status_code == 303 and not signed_in(client)
    [event] = audit(app, "sign_out")
    assert (event.actor_id, event.outcome) == (user.id, "success")


def test_a_copied_cookie_dies_with_sign_out(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    sign_in(client, user)
    stolen = client.get_cookie("session")
    assert stolen is not None
    sign_out(client)
    thief = app.test_client()
    thief.set_cookie("session", stolen.value)
    assert not signed_in(thief)
