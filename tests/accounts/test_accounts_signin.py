"""Sign-in: one answer for every kind of failure, lockout after 5 wrong passwords, office-friendly limits."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from helpdesk.accounts.models import User
from helpdesk.accounts.services import unlock_user
from helpdesk.audit.services import Origin
from helpdesk.extensions import db
from helpdesk.orm import utcnow
from tests.accounts.support import BASE_URL, GENERIC_FAILURE, attempt, audit, load_user, outbox, signed_in
from tests.factories import PASSWORD, make_user, sign_in
from tests.helpers import read_csrf_token, without_csrf

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI

WRONG = "not the password at all, sorry"


def comparable(response: TestResponse, email: str) -> tuple[int, tuple[tuple[str, str], ...], str]:
    """Return what a visitor can observe of a failed sign-in, minus the CSRF token and the e-mail they typed."""
    page = without_csrf(response.get_data(as_text=True)).replace(email, "EMAIL")
    # The session cookie carries the (per-visitor) CSRF token: compare its attributes, not its value.
    headers = tuple(
        sorted((name, re.sub(r"^session=[^;]*", "session=VALUE", value)) for name, value in response.headers.items())
    )
    return response.status_code, headers, page


def lock(client: FlaskClient, user: User) -> TestResponse:
    """Fail 5 times in a row; return the 5th answer."""
    for _ in range(5):
        response = attempt(client, user.email, WRONG)
    return response


def test_every_failure_gets_the_same_answer(app: Flask, clock: time_machine.Traveller) -> None:
    # Addresses of one length, so that even Content-Length cannot differ.
    active = make_user(app, email="casea@tx.example.gov")
    gone = make_user(app, email="caseb@tx.example.gov", is_active=False, deactivated_at=utcnow())
    locked = make_user(app, email="casec@tx.example.gov", locked_until=utcnow() + dt.timedelta(minutes=10))
    cases = {
        "unknown e-mail": ("cased@tx.example.gov", PASSWORD),
        "wrong password": (active.email, WRONG),
        "deactivated": (gone.email, PASSWORD),
        "locked": (locked.email, PASSWORD),
    }
    seen = {}
    for number, (case, (email, password)) in enumerate(cases.items(), start=1):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{number}"  # a rate-limit counter each: same headers
        seen[case] = comparable(attempt(client, email, password), email)
        assert not signed_in(client)
    first = seen["unknown e-mail"]
    for case, observed in seen.items():
        assert observed[:2] == first[:2], case
        assert observed[2] == first[2], case
    status, _headers, page = seen["unknown e-mail"]
    [alert] = re.findall(r'<p class="flash flash-error" role="alert">(.*?)</p>', page, flags=re.DOTALL)
    assert status == 200 and alert.startswith(GENERIC_FAILURE)
    for word in ("unknown", "not found", "deactivated", "locked", "no account", "disabled", "exist"):
        assert word not in alert.lower()


def test_five_wrong_passwords_lock_the_account(app: Flask, client: FlaskClient, clock: time_machine.Traveller) -> None:
    user = make_user(app)
    for count in range(1, 5):
        assert GENERIC_FAILURE in attempt(client, user.email, WRONG).get_data(as_text=True)
        stored = load_user(app, user.id)
        assert (stored.failed_logins, stored.locked_until) == (count, None)
    fifth = attempt(client, user.email, WRONG)
    assert load_user(app, user.id).locked_until is not None
    sixth = attempt(client, user.email, PASSWORD)  # the right password, too late
    assert sixth.status_code == fifth.status_code == 200
    assert without_csrf(sixth.get_data(as_text=True)) == without_csrf(fifth.get_data(as_text=True))
    assert not signed_in(client)
    [mail] = outbox(app, kind="account_locked")
    assert mail.recipient == user.email and "10 minutes" in mail.body_text
    assert f"{BASE_URL}/forgot" in mail.body_text
    assert PASSWORD not in mail.body_text + (mail.body_html or "") and WRONG not in mail.body_text
    [event] = audit(app, "account_locked")
    assert (event.actor_id, event.target_id, event.outcome) == (user.id, str(user.id), "success")


def test_a_deactivated_account_is_neither_counted_nor_mailed(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, is_active=False, deactivated_at=utcnow())
    lock(client, user)
    stored = load_user(app, user.id)
    assert (stored.failed_logins, stored.locked_until) == (0, None)
    assert outbox(app) == []


def test_the_lock_ends_after_ten_minutes(app: Flask, client: FlaskClient, clock: time_machine.Traveller) -> None:
    user = make_user(app)
    lock(client, user)
    clock.shift(dt.timedelta(minutes=9, seconds=59))
    assert GENERIC_FAILURE in attempt(client, user.email, PASSWORD).get_data(as_text=True)
    clock.shift(dt.timedelta(seconds=2))
    assert attempt(client, user.email, PASSWORD).status_code == 303
    assert signed_in(client)


def test_a_state_administrator_unlocks_at_once(app: Flask, client: FlaskClient, clock: time_machine.Traveller) -> None:
    user = make_user(app, state="TX")
    admin = make_user(app, role="state_admin", state="TX")
    lock(client, user)
    with app.app_context():
        unlock_user(
            db.session,
            db.session.get(User, user.id),
            actor=db.session.get(User, admin.id),
            origin=Origin(ip="192.0.2.10", user_agent="test"),
        )
        db.session.commit()
    assert attempt(client, user.email, PASSWORD).status_code == 303
    [event] = audit(app, "account_unlocked")
    assert (event.actor_id, event.target_id, event.ip) == (admin.id, str(user.id), "192.0.2.10")


def test_an_administrator_of_another_state_cannot_unlock(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, state="TX")
    other = make_user(app, role="state_admin", state="CA")
    lock(client, user)
    with app.app_context(), pytest.raises(PermissionError):
        unlock_user(
            db.session,
            db.session.get(User, user.id),
            actor=db.session.get(User, other.id),
            origin=Origin(ip="192.0.2.10"),
        )
    assert load_user(app, user.id).locked_until is not None


def test_a_success_resets_the_count(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    for _ in range(4):
        attempt(client, user.email, WRONG)
    assert attempt(client, user.email, PASSWORD).status_code == 303
    other = app.test_client()
    for _ in range(4):
        attempt(other, user.email, WRONG)
    stored = load_user(app, user.id)
    assert (stored.failed_logins, stored.locked_until) == (4, None)


def _guess_at_once(app: Flask, user: User, guesses: int) -> list[int]:
    """Send `guesses` wrong passwords for `user` from as many threads at the same moment; return the statuses."""
    clients = [app.test_client() for _ in range(guesses)]
    tokens = [read_csrf_token(c, "/login") for c in clients]
    start = threading.Barrier(guesses)
    statuses: list[int] = []

    def guess(client: FlaskClient, token: str) -> None:
        start.wait()
        try:
            response = client.post("/login", data={"email": user.email, "password": WRONG, "csrf_token": token})
        except Exception:  # reported as a status below
            statuses.append(-1)
        else:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(statuses)


def test_concurrent_wrong_passwords_all_count(make_app: Callable[..., Flask]) -> None:
    app = make_app(LOCKOUT_THRESHOLD=50)
    user = make_user(app)
    assert _guess_at_once(app, user, 8) == [200] * 8
    assert load_user(app, user.id).failed_logins == 8
    assert len(audit(app, "sign_in", outcome="failure", actor_id=user.id)) == 8


def test_concurrent_wrong_passwords_lock_once(app: Flask) -> None:
    user = make_user(app)
    assert _guess_at_once(app, user, 5) == [200] * 5
    assert load_user(app, user.id).locked_until is not None
    assert len(audit(app, "account_locked")) == 1 and len(outbox(app, kind="account_locked")) == 1
    assert GENERIC_FAILURE in attempt(app.test_client(), user.email, PASSWORD).get_data(as_text=True)


def test_fifty_colleagues_behind_one_address_all_sign_in(app: Flask) -> None:
    users = [make_user(app) for _ in range(50)]
    for user in users:
        client = app.test_client()
        assert sign_in(client, user).status_code == 303, user.email
    assert len(audit(app, "sign_in", outcome="success")) == 50


def test_colleagues_signing_in_at_the_same_moment(app: Flask) -> None:
    users = [make_user(app) for _ in range(6)]
    clients = [app.test_client() for _ in users]
    tokens = [read_csrf_token(c, "/login") for c in clients]
    start = threading.Barrier(len(users))
    statuses: list[int] = []

    def go(client: FlaskClient, token: str, user: User) -> None:
        start.wait()
        try:
            response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        except Exception:  # reported as a status below
            statuses.append(-1)
        else:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=go, args=trio) for trio in zip(clients, tokens, users, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [303] * len(users)


def test_the_sign_in_form_lets_password_managers_help(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    password = re.search(r'<input[^>]*name="password"[^>]*>', page)
    email = re.search(r'<input[^>]*name="email"[^>]*>', page)
    assert password and 'type="password"' in password.group(0)
    assert 'autocomplete="current-password"' in password.group(0)
    assert email and 'autocomplete="username"' in email.group(0)
    assert "onpaste" not in page and "remember" not in page.lower()


def test_the_address_is_case_insensitive(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    assert attempt(client, f"  {user.email.upper()} ", PASSWORD).status_code == 303


@pytest.mark.parametrize("email", ["' OR 1=1 --", "x@tx.example.gov' OR '1'='1", '" OR ""="', "%", "*"])
def test_sql_shaped_addresses_are_just_text(app: Flask, client: FlaskClient, email: str) -> None:
    make_user(app)
    response = attempt(client, email, "' OR 1=1 --")
    assert response.status_code == 200 and GENERIC_FAILURE in response.get_data(as_text=True)
    assert not signed_in(client)
    [event] = audit(app, "sign_in")
    assert (event.outcome, event.actor_id, event.actor_email) == ("failure", None, email.strip().lower())
