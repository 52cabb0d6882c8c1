"""The authenticator being set up: its secret stays in the database, never in the session cookie; it expires."""

from __future__ import annotations

import datetime as dt
import json
import re

import pyotp
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.accounts.models import MfaEnrolment
from tests.accounts.support import all_rows, attempt, load_user, signed_in
from tests.accounts.test_accounts_mfa import enter_code, replace_authenticator
from tests.factories import PASSWORD, make_user, sign_in
from tests.helpers import csrf_of

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI


def session_contents(app: Flask, client: FlaskClient) -> str:
    """Return what the signed session cookie carries, decoded (signed by Flask, not encrypted: anyone can read it)."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return json.dumps(serializer.loads(cookie.value), default=str)


def test_the_secret_being_set_up_stays_on_the_server(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, role="compact_office", mfa=False)
    attempt(client, user.email, PASSWORD)
    page = client.get("/login/mfa/enrol").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page)
    assert secret
    assert secret.group(1) not in session_contents(app, client) and "pending" in session_contents(app, client)
    assert [row.secret for row in all_rows(app, MfaEnrolment)] == [secret.group(1)]
    assert secret.group(0) in client.get("/login/mfa/enrol").get_data(as_text=True)  # the same key on a reload
    assert enter_code(client, pyotp.TOTP(secret.group(1)).now(), "/login/mfa/enrol").status_code == 200
    assert load_user(app, user.id).totp_secret == secret.group(1) and signed_in(client)
    assert all_rows(app, MfaEnrolment) == []  # nothing waits once it is set up


def test_a_setup_left_too_long_is_renewed(app: Flask, client: FlaskClient, clock: time_machine.Traveller) -> None:
    user = make_user(app, role="po")
    sign_in(client, user)
    page = client.get("/account/mfa").get_data(as_text=True)
    old = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page)
    assert old
    clock.shift(dt.timedelta(minutes=11))
    late = client.post("/account/mfa", data={"code": pyotp.TOTP(old.group(1)).now(), "csrf_token": csrf_of(page)})
    text = late.get_data(as_text=True)
    new = re.search(r'<code class="secret">([A-Z2-7]+)</code>', text)
    assert late.status_code == 200 and "waited too long and was renewed" in text
    assert new and new.group(1) != old.group(1)
    assert load_user(app, user.id).totp_secret is None
    assert [row.secret for row in all_rows(app, MfaEnrolment)] == [new.group(1)]  # the old one is gone
    assert replace_authenticator(client).status_code == 200
    assert load_user(app, user.id).totp_secret == new.group(1)
