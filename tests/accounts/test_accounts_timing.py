"""Timing: with production argon2 parameters, a wrong e-mail costs the same time as a wrong password."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable, Iterator

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.accounts import passwords
from helpdesk.orm import utcnow
from tests.accounts.support import load_user
from tests.factories import make_user
from tests.helpers import read_csrf_token, timing_difference

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI

ROUNDS = 15
BATCHES = 3
TOLERANCE = 0.050  # seconds between the medians


@pytest.fixture
def real_hashing() -> Iterator[None]:
    """Production argon2 parameters for one test, then the fast test parameters again (the switch is global)."""
    passwords.use_fast_hashing(False)
    yield
    passwords.use_fast_hashing(True)


def timed_post(client: FlaskClient, path: str, data: dict[str, str]) -> float:
    """Return the seconds one form post takes (the token is read beforehand, outside the measurement)."""
    token = read_csrf_token(client, path)
    started = time.perf_counter()
    response = client.post(path, data={**data, "csrf_token": token})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    return elapsed


def test_unknown_email_wrong_password_and_locked_take_the_same_time(
    make_app: Callable[..., Flask], real_hashing: None
) -> None:
    app = make_app(LOCKOUT_THRESHOLD=100, PASSWORD_FAST_HASH=False)  # 15 wrong passwords must not lock
    user = make_user(app)
    locked = make_user(app, locked_until=utcnow() + dt.timedelta(hours=1))
    expected = PasswordHasher().hash("x").split("$")[3]  # the library's parameters, e.g. m=65536,t=3,p=4
    assert load_user(app, user.id).password_hash.split("$")[3] == expected  # type: ignore[union-attr]
    client = app.test_client()
    unknown, wrong, refused, unknown_beside_refused = [], [], [], []
    guess = "a guess 12345"
    for _ in range(BATCHES):  # more rounds only when a busy machine blurs the first ones
        for number in range(ROUNDS):  # interleaved, so that drift in machine load hits all alike
            unknown.append(timed_post(client, "/login", {"email": "nobody@tx.example.gov", "password": guess}))
            wrong.append(timed_post(client, "/login", {"email": user.email, "password": guess}))
            if number % 3 == 0:  # a locked account verifies the password too (fewer rounds: the same code path)
                refused.append(timed_post(client, "/login", {"email": locked.email, "password": guess}))
                unknown_beside_refused.append(unknown[-1])
        problems = [
            problem
            for problem in (
                timing_difference(unknown, wrong, floor=TOLERANCE),
                timing_difference(unknown_beside_refused, refused, floor=TOLERANCE),
            )
            if problem
        ]
        if not problems:
            break
    assert statistics.median(unknown) > 0.005  # a real hash was verified for the unknown e-mail too
    assert not problems, problems


def test_an_app_without_fast_hashing_uses_the_real_parameters(
    app: Flask, make_app: Callable[..., Flask], real_hashing: None
) -> None:
    # `app` (the test configuration, PASSWORD_FAST_HASH on) switched to cheap parameters; an app configured like
    # production after it must switch back (the switch is process-wide).
    production_like = make_app(PASSWORD_FAST_HASH=False)
    user = make_user(production_like)
    expected = PasswordHasher().hash("x").split("$")[3]
    assert load_user(production_like, user.id).password_hash.split("$")[3] == expected  # type: ignore[union-attr]
