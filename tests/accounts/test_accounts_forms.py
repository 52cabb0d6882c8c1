"""CSRF on every account form (missing or foreign token: 400, nothing changes) and no open redirect after sign-in."""

from __future__ import annotations

from urllib.parse import quote

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.accounts.models import PrivacyAcceptance, User, UserToken
from tests.accounts.support import all_rows, attempt, audit, load_user, outbox, reset_link, signed_in
from tests.factories import PASSWORD, make_user, sign_in
from tests.helpers import post_form, read_csrf_token

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI

NEW_PASSWORD = "eleven brass keys in a teapot"


def bad_tokens(app: Flask) -> dict[str, dict[str, str]]:
    """The ways a forged form fails: no token, garbage, and a real token of another visitor's session."""
    foreign = read_csrf_token(app.test_client(), "/login")
    return {"missing": {}, "garbage": {"csrf_token": "not-a-token"}, "another session's": {"csrf_token": foreign}}


def test_sign_in_needs_the_token(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    client.get("/login")
    for name, token in bad_tokens(app).items():
        response = client.post("/login", data={"email": user.email, "password": PASSWORD, **token})
        assert response.status_code == 400, name
        assert not signed_in(client)
    assert audit(app, "sign_in") == []


def test_sign_out_needs_the_token(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    sign_in(client, user)
    for name, token in bad_tokens(app).items():
        assert client.post("/logout", data=token).status_code == 400, name
        assert signed_in(client), name
    assert audit(app, "sign_out") == []


def test_asking_for_a_link_needs_the_token(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    client.get("/forgot")
    for name, token in bad_tokens(app).items():
        assert client.post("/forgot", data={"email": user.email, **token}).status_code == 400, name
    assert outbox(app) == [] and all_rows(app, UserToken) == []


def test_choosing_a_password_needs_the_token(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    path, _raw = reset_link(app, client, user.email)
    before = load_user(app, user.id).password_hash
    for name, token in bad_tokens(app).items():
        response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, **token})
        assert response.status_code == 400, name
    assert load_user(app, user.id).password_hash == before
    assert client.get(path).status_code == 200  # the link still works


def test_accepting_the_privacy_policy_needs_the_token(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, privacy=False)
    sign_in(client, user)
    for name, token in bad_tokens(app).items():
        assert client.post("/privacy", data={"accept": "y", **token}).status_code == 400, name
    assert all_rows(app, PrivacyAcceptance) == [] and load_user(app, user.id).privacy_version is None


def test_the_second_factor_needs_the_token(app: Flask, client: FlaskClient) -> None:
    user = make_user(app, role="compact_office")
    assert user.totp_secret
    attempt(client, user.email, PASSWORD)
    for name, token in bad_tokens(app).items():
        response = client.post("/login/mfa", data={"code": pyotp.TOTP(user.totp_secret).now(), **token})
        assert response.status_code == 400, name
    assert not signed_in(client)


def test_sign_out_is_post_only(app: Flask, client: FlaskClient) -> None:
    sign_in(client, make_user(app))
    for method in (client.get, client.head, client.put, client.delete):
        assert method("/logout").status_code == 405
    assert signed_in(client)


EVIL = [
    "//evil.com",
    "/\\evil.com",
    "https:evil.com",
    "https://evil.com",
    "////evil.com",
    "\\\\\\evil.com",
    "javascript:alert(1)",
    "%2F%2Fevil.com",
    " https://evil.com",
    "/\t/evil.com",
    "/\r\n/evil.com",
    "http://help.example.org.evil.com/",
    "//help.example.org@evil.com",
    "\\/evil.com",
    "/\\/evil.com",
    "data:text/html,<script>alert(1)</script>",
    "https://evil.com/%2F..",
    "JaVaScRiPt:alert(1)",
]
#: Query strings as an attacker may write them (decoded once by the server).
ENCODED = [
    "next=//evil.com",
    "next=%2F%2Fevil.com",
    "next=/%5Cevil.com",
    "next=%5C%5Cevil.com",
    "next=https%3A%2F%2Fevil.com",
    "next=%252F%252Fevil.com",
    "next=%2F%09%2Fevil.com",
]


def sign_in_with_next(app: Flask, user: User, raw_query: str) -> str:
    """Sign in from /login?<raw_query> and return where the app sends the browser."""
    client = app.test_client()
    token = read_csrf_token(client, "/login")
    response = client.post(f"/login?{raw_query}", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303
    return response.headers["Location"]


def test_no_open_redirect_after_sign_in(app: Flask, subtests: pytest.Subtests) -> None:
    user = make_user(app)
    queries = ["next=" + quote(target, safe="") for target in EVIL] + ENCODED
    for query in queries:
        with subtests.test(query=query):
            assert sign_in_with_next(app, user, query) == "/"


def test_a_page_of_this_site_is_kept(app: Flask, subtests: pytest.Subtests) -> None:
    user = make_user(app)
    for target in (
        "/articles/errors-and-technical-support",
        "/search?q=reset+password",
        "/articles/errors-and-technical-support#comments",
    ):
        with subtests.test(target=target):
            assert sign_in_with_next(app, user, "next=" + quote(target, safe="")) == target


def test_no_open_redirect_when_already_signed_in_or_after_the_second_factor(
    app: Flask, subtests: pytest.Subtests
) -> None:
    client = app.test_client()
    sign_in(client, make_user(app))
    for target in ("//evil.com", "https://evil.com", "/\\evil.com"):
        with subtests.test(target=target):
            assert client.get("/login", query_string={"next": target}).headers["Location"] == "/"
            staff = make_user(app, role="compact_office")  # one each: an authenticator code works only once
            assert staff.totp_secret
            other = app.test_client()
            token = read_csrf_token(other, "/login")
            response = other.post(
                "/login",
                query_string={"next": target},
                data={"email": staff.email, "password": PASSWORD, "csrf_token": token},
            )
            assert response.headers["Location"] == "/login/mfa"
            done = post_form(other, "/login/mfa", {"code": pyotp.TOTP(staff.totp_secret).now()})
            assert done.headers["Location"] == "/"
