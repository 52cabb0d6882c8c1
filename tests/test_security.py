"""Security headers on every response, safe templates, no inline script, CSRF on every unsafe route."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

REPO = Path(__file__).resolve().parent.parent
#: The only template expressions allowed to bypass autoescaping: each renders nh3-sanitised or engine-escaped HTML.
SAFE_ALLOWED = {
    ("kb/article.html", "article.intro_html|safe"),
    ("kb/article.html", "q.html|safe"),
    ("kb/article.html", "q.answer_html|safe"),
    ("search/results.html", "hit.snippet|safe"),
    ("accounts/mfa_enrol.html", "qr|safe"),  # an SVG QR code made by segno from our own URI
    ("kb/article.html", "comment.body_html|safe"),  # nh3-sanitised when the comment was saved
    # The editor's preview: the article page's own renderer and sanitiser.
    ("editor/_preview.html", "preview.intro_html|safe"),
    ("editor/_preview.html", "q.html|safe"),
    ("editor/_preview.html", "q.answer_html|safe"),
}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/articles/errors-and-technical-support",
        "/search?q=password",
        "/nowhere",
        "/api/v1/search?q=x",
        "/api/v1/nowhere",
        "/healthz",
    ],
)
def test_every_response_carries_security_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    # Signed-out help pages may be kept by the browser only, revalidated by ETag every time; nothing else is kept.
    revalidated = path in ("/", "/articles/errors-and-technical-support")
    assert response.headers["Cache-Control"] == ("private, no-cache" if revalidated else "no-store")
    assert "Cookie" in response.headers["Vary"]


def test_hsts_over_https(client: FlaskClient) -> None:
    response = client.get("/", base_url="https://help.example.org")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_templates_use_safe_only_on_sanitised_html() -> None:
    found = set()
    for path in (REPO / "templates").rglob("*.html"):
        for expression in re.findall(r"\{\{\s*([^}]*?\|safe)\s*\}\}", path.read_text(encoding="utf-8")):
            found.add((path.relative_to(REPO / "templates").as_posix(), expression.replace(" ", "")))
    assert found == SAFE_ALLOWED


def test_no_inline_script_or_style_and_no_outside_assets() -> None:
    # E-mails are exempt: mail readers ignore stylesheets and the CSP does not apply to them.
    for path in (p for p in (REPO / "templates").rglob("*.html") if "email" not in p.parts):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert "<style" not in text and " style=" not in text and not re.search(r"\son\w+=", text), path
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path


def test_every_unsafe_route_requires_csrf(app: Flask, client: FlaskClient) -> None:
    from helpdesk.request_limits import needs_sign_in
    from tests.factories import make_user, sign_in

    unsafe = [rule for rule in app.url_map.iter_rules() if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}]
    assert unsafe
    paths = {}
    for rule in unsafe:
        path = re.sub(r"<(?:int|id):\w+>", "1", rule.rule.replace("<slug>", "errors-and-technical-support"))
        method = sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"})[0]
        paths[(re.sub(r"<\w+>", "x", path), method)] = rule.endpoint
    for (path, method), endpoint in paths.items():  # signed out: pages for signed-in users send to sign in, unread
        response = client.open(path, method=method, data={"helpful": "yes"})
        if needs_sign_in(endpoint):
            assert response.status_code in (302, 303) and "/login" in response.headers["Location"], path
        else:
            assert response.status_code == 400, path
    sign_in(client, make_user(app))
    for path, method in paths:
        assert client.open(path, method=method, data={"helpful": "yes"}).status_code == 400, path


def test_csrf_error_page_explains(client: FlaskClient) -> None:
    response = client.post("/articles/errors-and-technical-support/vote", data={"helpful": "yes"})
    assert "CSRF" in response.get_data(as_text=True) or "expired" in response.get_data(as_text=True)


def test_oversized_request_is_413(client: FlaskClient, csrf_token: str) -> None:
    response = client.post(
        "/api/v1/articles/errors-and-technical-support/vote",
        data="x" * (2 * 1024 * 1024),
        headers={"X-CSRFToken": csrf_token, "Content-Type": "application/json"},
    )
    assert response.status_code == 413 and response.json["error"] == "too_large"
