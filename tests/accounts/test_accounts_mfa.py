"""Second factor: enrolment at sign-in, codes that count towards lockout, single-use recovery codes."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from helpdesk.accounts.models import RecoveryCode
from tests.accounts.support import (
    GENERIC_FAILURE,
    all_rows,
    attempt,
    audit,
    choose_password,
    load_user,
    outbox,
    reset_link,
    sign_out,
    signed_in,
    wrong_code,
)
from tests.factories import PASSWORD, make_user, sign_in
from tests.helpers import csrf_of, post_form

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI


def enter_code(
    client: FlaskClient, code: str, path: str = "/login/mfa", *, form_page: str | None = None
) -> TestResponse:
    return post_form(client, path, {"code": code}, form_page=form_page)


def enrol(client: FlaskClient, email: str) -> tuple[str, list[str]]:
    """Sign in as a user who must enrol, enrol with a right code; return the secret and the recovery codes."""
    response = attempt(client, email, PASSWORD)
    assert response.status_code == 303 and response.headers["Location"] == "/login/mfa/enrol"
    page = client.get("/login/mfa/enrol").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page)
    assert secret and "<svg" in page
    done = enter_code(client, pyotp.TOTP(secret.group(1)).now(), "/login/mfa/enrol")
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", done.get_data(as_text=True))
    return secret.group(1), codes


def test_compact_office_staff_must_enrol_at_sign_in(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, role="compact_office", mfa=False)
    response = attempt(client, user.email, PASSWORD)
    assert response.headers["Location"] == "/login/mfa/enrol"
    assert not signed_in(client)  # the password alone is not a sign-in
    secret, codes = enrol(app.test_client(), user.email)
    assert len(codes) == 10 == len(set(codes))
    assert load_user(app, user.id).totp_secret == secret
    assert len(all_rows(app, RecoveryCode)) == 10
    assert all(c not in str(r.code_hash) for c in codes for r in all_rows(app, RecoveryCode))
    [event] = audit(app, "mfa_enrolled")
    assert event.actor_id == user.id


def test_enrolment_completes_the_sign_in(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, role="compact_office", mfa=False)
    enrol(client, user.email)
    assert signed_in(client)


def test_a_wrong_enrolment_code_is_refused(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, role="compact_office", mfa=False)
    attempt(client, user.email, PASSWORD)
    page = client.get("/login/mfa/enrol").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)  # type: ignore[union-attr]
    response = enter_code(client, wrong_code(secret), "/login/mfa/enrol")
    assert "That code is not right" in response.get_data(as_text=True)
    assert load_user(app, user.id).totp_secret is None and not signed_in(client)


def test_an_enrolled_user_needs_the_right_code(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, role="compact_office")
    assert user.totp_secret
    assert attempt(client, user.email, PASSWORD).headers["Location"] == "/login/mfa"
    response = enter_code(client, wrong_code(user.totp_secret))
    assert "That code is not right" in response.get_data(as_text=True) and not signed_in(client)
    assert load_user(app, user.id).failed_logins == 1
    assert enter_code(client, pyotp.TOTP(user.totp_secret).now()).status_code == 303
    assert signed_in(client)
    assert load_user(app, user.id).failed_logins == 0


def test_wrong_codes_count_towards_lockout(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, role="compact_office")
    assert user.totp_secret
    attempt(client, user.email, PASSWORD)
    for _ in range(4):
        assert enter_code(client, wrong_code(user.totp_secret)).status_code == 200
    fifth = enter_code(client, wrong_code(user.totp_secret))
    assert fifth.status_code == 303 and fifth.headers["Location"] == "/login"
    assert load_user(app, user.id).locked_until is not None
    assert GENERIC_FAILURE in attempt(app.test_client(), user.email, PASSWORD).get_data(as_text=True)
    assert len(audit(app, "account_locked")) == 1


def test_signing_in_again_does_not_reset_the_code_guesses(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, role="compact_office")
    assert user.totp_secret
    for guesses in (4, 1):  # 4 wrong codes, the password again, 1 more wrong code: 5 failures in a row
        assert attempt(client, user.email, PASSWORD).headers["Location"] == "/login/mfa"
        for _ in range(guesses):
            enter_code(client, wrong_code(user.totp_secret))
    assert load_user(app, user.id).locked_until is not None


def test_a_lock_also_stops_second_factor_steps_under_way(app: Flask) -> None:
    user = make_user(app, role="compact_office")
    assert user.totp_secret
    waiting, guesser = app.test_client(), app.test_client()
    assert attempt(waiting, user.email, PASSWORD).headers["Location"] == "/login/mfa"
    waiting_page = waiting.get("/login/mfa").get_data(as_text=True)
    attempt(guesser, user.email, PASSWORD)
    for _ in range(5):
        enter_code(guesser, wrong_code(user.totp_secret))
    assert load_user(app, user.id).locked_until is not None
    response = waiting.post(
        "/login/mfa", data={"code": pyotp.TOTP(user.totp_secret).now(), "csrf_token": csrf_of(waiting_page)}
    )
    assert response.status_code in (200, 303) and not signed_in(waiting)
    assert load_user(app, user.id).locked_until is not None


def test_a_recovery_code_works_once(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, role="compact_office", mfa=False)
    _secret, codes = enrol(client, user.email)
    sign_out(client)
    assert attempt(client, user.email, PASSWORD).headers["Location"] == "/login/mfa"
    assert enter_code(client, codes[3]).status_code == 303 and signed_in(client)
    [event] = [e for e in audit(app, "sign_in", outcome="success") if "recovery code" in (e.detail or "")]
    assert event.actor_id == user.id
    sign_out(client)
    attempt(client, user.email, PASSWORD)
    assert "That code is not right" in enter_code(client, codes[3]).get_data(as_text=True)
    assert not signed_in(client)
    assert enter_code(client, codes[4].upper()).status_code == 303  # another one still works


def test_the_second_step_expires(app: Flask, client: FlaskClient, clock: time_machine.Traveller) -> None:
    user = make_user(app, role="compact_office")
    assert user.totp_secret
    attempt(client, user.email, PASSWORD)
    page = client.get("/login/mfa")  # the form is shown, then the user goes for coffee
    assert page.status_code == 200
    clock.shift(dt.timedelta(minutes=5, seconds=1))
    response = client.post(
        "/login/mfa",
        data={"code": pyotp.TOTP(user.totp_secret).now(), "csrf_token": csrf_of(page.get_data(as_text=True))},
    )
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert not signed_in(client)


def test_a_password_reset_does_not_skip_the_second_factor(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, role="compact_office")
    path, _raw = reset_link(app, client, user.email)
    assert choose_password(client, path, "a brand new passphrase for work").status_code == 303
    response = attempt(client, user.email, "a brand new passphrase for work")
    assert response.headers["Location"] == "/login/mfa" and not signed_in(client)
    assert load_user(app, user.id).totp_secret == user.totp_secret


def test_the_code_page_needs_the_password_first(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, role="compact_office")
    assert user.totp_secret
    response = enter_code(client, pyotp.TOTP(user.totp_secret).now(), form_page="/login")
    assert response.headers["Location"] == "/login" and not signed_in(client)


def test_an_authenticator_code_works_once(app: Flask, client: FlaskClient, clock: time_machine.Traveller) -> None:
    user = make_user(app, role="compact_office")
    assert user.totp_secret
    code = pyotp.TOTP(user.totp_secret).now()
    attempt(client, user.email, PASSWORD)
    assert enter_code(client, code).status_code == 303
    other = app.test_client()  # someone who saw the code over the user's shoulder
    attempt(other, user.email, PASSWORD)
    assert enter_code(other, code).status_code == 200 and not signed_in(other)


def replace_authenticator(client: FlaskClient) -> TestResponse:
    """Open "Set up an authenticator app" while signed in and confirm it with a code of the new key."""
    page = client.get("/account/mfa")
    if page.status_code != 200:
        return page  # refused (e.g. the sign-in is not recent): the caller checks what changed
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.get_data(as_text=True))
    assert secret
    return client.post(
        "/account/mfa",
        data={"code": pyotp.TOTP(secret.group(1)).now(), "csrf_token": csrf_of(page.get_data(as_text=True))},
    )


def test_an_old_session_alone_cannot_replace_the_authenticator(
    app: Flask, client: FlaskClient, clock: time_machine.Traveller
) -> None:
    user = make_user(app, role="compact_office")
    attempt(client, user.email, PASSWORD)
    assert enter_code(client, pyotp.TOTP(user.totp_secret or "").now()).status_code == 303
    for _ in range(2):  # still active, but signed in 20 minutes ago
        clock.shift(dt.timedelta(minutes=10))
        assert signed_in(client)
    refused = replace_authenticator(client)
    assert refused.status_code == 303 and refused.headers["Location"].startswith("/login")
    assert load_user(app, user.id).totp_secret == user.totp_secret


def test_setting_up_an_authenticator_is_mailed_to_the_user(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, role="po")
    sign_in(client, user)
    assert replace_authenticator(client).status_code == 200
    assert load_user(app, user.id).totp_secret is not None
    assert outbox(app, to=user.email) != []
