"""Issue 8 item 10: "What was my password again?" takes the same time for a known, an unknown and a throttled address.

Requests run in interleaved pairs (so that drift in machine load hits both alike), each after the previous one's
background work is done (waited for outside the clock), and the median of the paired differences must stay within
three standard errors of it, estimated from their spread: a busy machine widens the tolerance with the noise,
while a real difference (a token and a mail made during the request for one kind of address only) stays outside.
"""

from __future__ import annotations

import itertools
import math
import statistics
import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpdesk.accounts.reset_queue import reset_queue
from tests.accounts.support import outbox
from tests.factories import make_user
from tests.helpers import read_csrf_token

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI

PAIRS = 60  # one distinct known account per pair: each may have 3 links a quarter of an hour
FLOOR = 0.0015  # seconds: a difference below this is lost in any network's jitter
_addresses = (f"10.{n // 62500}.{n // 250 % 250}.{n % 250 + 1}" for n in itertools.count())  # 30 posts a minute each


def timed_forgot(client: FlaskClient, email: str) -> float:
    """Return the seconds one "What was my password again?" post takes (token and queue are seen to off the clock)."""
    token = read_csrf_token(client, "/forgot")
    reset_queue(client.application).wait()  # the previous request's work is not this one's
    started = time.perf_counter()
    response = client.post(
        "/forgot", data={"email": email, "csrf_token": token}, environ_base={"REMOTE_ADDR": next(_addresses)}
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    return elapsed


def differences(first: Callable[[int], float], second: Callable[[int], float], count: int) -> list[float]:
    """Return first(i) - second(i) for `count` interleaved pairs, the order inside each pair alternating."""
    found = []
    for number in range(count):
        if number % 2:
            b = second(number)
            a = first(number)
        else:
            a = first(number)
            b = second(number)
        found.append(a - b)
    return found


def assert_same_time(first: Callable[[int], float], second: Callable[[int], float]) -> None:
    """Fail when the median paired difference exceeds max(FLOOR, 3 standard errors of that median)."""
    found = differences(first, second, PAIRS)
    quartiles = statistics.quantiles(found, n=4)
    # The standard error of a median is about 1.25 sigma / sqrt(n), and sigma about IQR / 1.35.
    error = 1.25 * (quartiles[2] - quartiles[0]) / 1.35 / math.sqrt(len(found))
    tolerance = max(FLOOR, 3 * error)
    median = statistics.median(found)
    assert abs(median) < tolerance, f"median difference {median * 1000:.2f} ms, tolerance {tolerance * 1000:.2f} ms"


def test_a_known_and_an_unknown_address_take_the_same_time(app: Flask) -> None:
    users = [make_user(app) for _ in range(PAIRS)]
    client = app.test_client()
    assert_same_time(
        lambda n: timed_forgot(client, users.pop().email), lambda n: timed_forgot(client, f"nobody{n}@tx.example.gov")
    )
    reset_queue(app).wait()
    assert len(outbox(app, kind="password_reset")) == PAIRS and not users  # every known one got its link


def test_a_throttled_address_takes_the_same_time_as_an_unknown_one(app: Flask) -> None:
    throttled = make_user(app)
    client = app.test_client()
    for _ in range(3):  # the three links a quarter of an hour
        timed_forgot(client, throttled.email)
    assert_same_time(
        lambda n: timed_forgot(client, throttled.email), lambda n: timed_forgot(client, f"nobody{n}@tx.example.gov")
    )
    reset_queue(app).wait()
    assert len(outbox(app, kind="password_reset")) == 3
