"""`helpdesk demo`: an idempotent demo organisation whose printed sign-ins work through the real forms."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from helpdesk.accounts.demo import DEMO_DOMAIN
from helpdesk.accounts.models import ROLES, Agency, User
from helpdesk.accounts.passwords import PasswordPolicy
from helpdesk.extensions import db
from tests.helpers import read_csrf_token

pytestmark = pytest.mark.db


def run_demo(runner: FlaskCliRunner) -> dict[str, Any]:
    result = runner.invoke(args=["demo", "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def snapshot(app: Flask) -> list[tuple[Any, ...]]:
    with app.app_context():
        users = db.session.scalars(select(User).order_by(User.id))
        return [(u.id, u.email, u.role, u.agency_id, u.password_hash, u.totp_secret, u.is_active) for u in users]


def test_demo_is_idempotent_and_prints_the_exact_json(app: Flask, runner: FlaskCliRunner) -> None:
    first = run_demo(runner)
    before = snapshot(app)
    second = run_demo(runner)
    assert first == second and snapshot(app) == before
    assert list(first) == ["users"]
    users = first["users"]
    assert all(list(u) == ["email", "password", "role", "state", "agency", "totp_secret"] for u in users)
    assert len({u["email"] for u in users}) == len(users) == len(before)
    assert all(u["email"].endswith(f".{DEMO_DOMAIN}") for u in users)
    roles = Counter(u["role"] for u in users)
    assert set(roles) == set(ROLES) and roles["national_admin"] == 1
    assert all(count >= 2 for role, count in roles.items() if role != "national_admin")
    assert {u["state"] for u in users} == {"TX", "OH", None}
    assert {
        "Travis County Probation",
        "Harris County CSCD",
        "Texas Compact Office",
        "Ohio Compact Office",
        "National Office",
    } <= {u["agency"] for u in users}
    for user in users:
        needs_mfa = user["role"] in ("compact_office", "state_admin", "national_admin")
        assert (user["totp_secret"] is not None) == needs_mfa, user
        context = (user["email"], user["agency"])
        assert PasswordPolicy(15).problems(user["password"], context=context) == [], user
    with app.app_context():
        harris = db.session.scalars(select(Agency).where(Agency.name == "Harris County CSCD")).one()
        agencies = db.session.scalar(select(func.count()).select_from(Agency).where(Agency.state_code == "TX"))
        it_staff = db.session.scalar(
            select(func.count()).select_from(User).where(User.agency_id == harris.id, User.role == "local_it")
        )
    assert harris.it_mailbox and it_staff == 0
    assert agencies == 3  # the compact office and the two demo agencies, not duplicated


def test_demo_restores_changed_users(app: Flask, runner: FlaskCliRunner) -> None:
    users = run_demo(runner)["users"]
    before = snapshot(app)
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == users[0]["email"])).one()
        user.is_active, user.password_hash = False, None
        db.session.commit()
    run_demo(runner)
    after = snapshot(app)
    assert [row[:4] for row in after] == [row[:4] for row in before] and after[0][6] is True


def sign_in(app: Flask, user: dict[str, Any]) -> Any:
    client = app.test_client()
    token = read_csrf_token(client, "/login")
    response = client.post("/login", data={"email": user["email"], "password": user["password"], "csrf_token": token})
    if user["totp_secret"]:
        assert response.headers["Location"].endswith("/login/mfa")
        token = read_csrf_token(client, "/login/mfa")
        response = client.post("/login/mfa", data={"code": pyotp.TOTP(user["totp_secret"]).now(), "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/", response.data[:300]
    return client


def test_demo_users_sign_in_through_the_real_forms(app: Flask, runner: FlaskCliRunner) -> None:
    users = {u["role"]: u for u in run_demo(runner)["users"]}
    officer = sign_in(app, users["po"])
    assert users["po"]["email"] in officer.get("/account").get_data(as_text=True)
    admin = sign_in(app, users["state_admin"])
    page = admin.get("/admin/users")
    assert page.status_code == 200 and users["po"]["email"] in page.get_data(as_text=True)


def test_demo_prints_a_table_and_is_refused_in_production(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0 and "Sign in at https://help.example.org/login" in result.output
    assert "catherine.moore@national.demo.helpdesk.test" in result.output
    app.config["HELPDESK_ENV"] = "production"
    refused = runner.invoke(args=["demo"])
    assert refused.exit_code == 1 and "HELPDESK_ENV=production" in refused.output
