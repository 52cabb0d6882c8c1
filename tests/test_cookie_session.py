"""The session cookie is Flask's signed cookie, only made more cheaply: both read each other's, forgeries fail."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient

from helpdesk.cookie_session import COMPRESS_FROM, SessionInterface
from tests.helpers import read_csrf_token


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_a_new_visitor_s_cookie_is_signed_uncompressed_and_read_by_flask(app: Flask, client: FlaskClient) -> None:
    assert isinstance(app.session_interface, SessionInterface)
    read_csrf_token(client)
    cookie = session_cookie(client)
    assert not cookie.startswith(".")  # one random token: zlib would only make it longer
    stock = SecureCookieSessionInterface().get_signing_serializer(app)
    assert stock is not None and set(stock.loads(cookie)) == {"csrf_token"}
    tampered = cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1]
    assert not SecureCookieSessionInterface().get_signing_serializer(app).loads_unsafe(tampered)[0]  # type: ignore[union-attr]


def test_cookies_made_by_flask_still_work_and_large_ones_are_compressed(app: Flask, client: FlaskClient) -> None:
    stock = SecureCookieSessionInterface().get_signing_serializer(app)
    ours = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert stock is not None and ours is not None
    large: dict[str, Any] = {"note": "x" * COMPRESS_FROM}
    assert ours.dumps(large).startswith(".") and stock.loads(ours.dumps(large)) == large
    token = read_csrf_token(client)
    client.set_cookie("session", stock.dumps({"csrf_token": "f" * 40}))  # a session from before this change
    assert read_csrf_token(client) != token
    assert ours.loads(session_cookie(client))["csrf_token"] == "f" * 40  # kept, not replaced


def test_the_signer_follows_a_new_secret_key(app: Flask) -> None:
    first = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert app.session_interface.get_signing_serializer(app) is first  # type: ignore[attr-defined]
    app.config["SECRET_KEY_FALLBACKS"] = [app.secret_key]
    app.secret_key = "another-secret-key-for-this-test"
    second = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert second is not first and second.loads(first.dumps({"a": 1})) == {"a": 1}  # the old key still reads
    assert first.loads_unsafe(second.dumps({"a": 1}))[0] is False  # but the new key signs
