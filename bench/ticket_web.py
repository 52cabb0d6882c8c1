"""The web half of bench/tickets.py: submissions and queue pages through the whole app (test client, no network).

Users sign in through the real /login form; the API uses a personal token. Each figure is printed beside the
service-level figure of the same run, so the cost of the web layer (forms, CSRF, templates, sessions) shows.
"""

from __future__ import annotations

import re
import secrets
import statistics
import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from helpdesk.accounts.api_tokens import create_api_token
from helpdesk.accounts.models import User
from helpdesk.accounts.passwords import hash_password
from helpdesk.audit.services import Origin
from helpdesk.extensions import db
from helpdesk.orm import utcnow

PASSWORD = "bench lantern meadow copper"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf-token" content="([^"]+)"')


def ready(app: Flask, user_id: int) -> str:
    """Give the user a password and an accepted privacy policy; return their e-mail address."""
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        user.password_hash, user.password_changed_at = hash_password(PASSWORD), utcnow()
        user.privacy_version, user.privacy_accepted_at = app.config.get("PRIVACY_VERSION", 1), utcnow()
        email = user.email
        db.session.commit()
    return email


def signed_in(app: Flask, user_id: int) -> FlaskClient:
    """Return a test client signed in as the user through the real sign-in form."""
    email = ready(app, user_id)
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf(client, "/login")})
    assert response.status_code == 303, response.status_code
    return client


def csrf(client: FlaskClient, path: str) -> str:
    """Return the CSRF token of the page at `path`."""
    match = _CSRF.search(client.get(path).get_data(as_text=True))
    assert match, path
    return match.group(1) or match.group(2)


def bench_web_submissions(app: Flask, org: dict[str, Any], count: int, label: str) -> None:
    """Print request-form submissions per second (GET the form, then POST it) and API submissions per second."""
    client = signed_in(app, org["reporters"][1])
    categories = ("other", "access", "login", "error")
    started = time.perf_counter()
    for number in range(count):
        token = csrf(client, "/requests/new")
        response = client.post(
            "/requests/new",
            data={
                "csrf_token": token,
                "category": categories[number % 4],
                "subject": f"Web bench request {number}",
                "description": "The page shows an error when I open a transfer.",
                "affected": "me",
                "idempotency_key": secrets.token_urlsafe(16),
            },
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
    form = count / (time.perf_counter() - started)
    ready(app, org["reporters"][2])
    with app.app_context():
        user = db.session.scalars(select(User).where(User.id == org["reporters"][2])).one()
        _, plaintext = create_api_token(db.session, actor=user, name="bench", origin=Origin(ip="127.0.0.1"))
        db.session.commit()
    api = app.test_client()
    headers = {"Authorization": f"Bearer {plaintext}"}
    started = time.perf_counter()
    for number in range(count):
        response = api.post(
            "/api/v1/tickets",
            headers=headers,
            json={
                "category": categories[number % 4],
                "subject": f"API bench request {number}",
                "description": "The page shows an error when I open a transfer.",
                "idempotency_key": secrets.token_hex(16),
            },
        )
        assert response.status_code == 201, response.get_data(as_text=True)[:500]
    rate = count / (time.perf_counter() - started)
    print(f"  web form (GET + POST) {label:22} {form:8.0f} /s   API POST {rate:8.0f} /s")


def _median_ms(client: FlaskClient, path: str, repeat: int) -> float:
    for _ in range(2):
        assert client.get(path).status_code == 200, path
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(samples)


def bench_queue_pages(app: Flask, org: dict[str, Any], phase: str, repeat: int = 15) -> None:
    """Print median times of whole queue pages per role and of a ticket page, beside a static file."""
    agency_id, state = org["agencies"][0]
    with app.app_context():
        national = db.session.scalars(select(User.id).where(User.role == "national_admin")).one()
    people = [
        ("local IT", org["local_it"][agency_id][0], ["/queue", "/queue?sort=updated", "/requests/1"]),
        (f"compact office {state}", org["compact"][state][0], ["/queue", "/queue?tier=local_it"]),
        (
            "national",
            national,
            [
                "/queue",
                "/queue?tier=all",
                "/queue?tier=all&sort=updated",
                "/queue?tier=all&sort=response",
                "/queue?tier=all&sort=created",
            ],
        ),
    ]
    static = app.test_client()
    floor = _median_ms(static, "/static/css/app.css", repeat)
    print(f"  {phase} whole pages (median of {repeat}; baseline static file {floor:.2f} ms):")
    for label, user_id, paths in people:
        client = signed_in(app, user_id)
        for path in paths:
            print(f"    {label:22} {path:32} {_median_ms(client, path, repeat):8.2f} ms")
