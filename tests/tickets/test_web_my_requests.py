""" "My requests": the signed-in user's own requests, newest first, filtered by status, paginated."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.tickets.conftest import Org
from tests.tickets.ticket_page_support import Login, change, file_request

pytestmark = pytest.mark.db

_ROW_IDS = re.compile(r'<td data-label="Request"><a href="/requests/(\d+)">#\d+</a></td>')


def listed(client: FlaskClient, query: str = "") -> tuple[int, str, list[int]]:
    """Return the status, text and request ids (in order) of the "My requests" page."""
    response = client.get(f"/requests{query}")
    text = html.unescape(response.get_data(as_text=True))
    return response.status_code, text, [int(found) for found in _ROW_IDS.findall(text)]


def test_my_requests_lists_only_mine_newest_first_with_their_details(app: Flask, org: Org, login: Login) -> None:
    first = file_request(app, org, "ana", "login", subject="Cannot log in since Monday")
    second = file_request(app, org, "ana", "access", subject="A new colleague needs an account")
    others = file_request(app, org, "ben", "login", subject="Ben cannot log in")
    status, text, ids = listed(login("ana"))
    assert status == 200 and ids == [second, first] and others not in ids
    assert "Ben cannot log in" not in text
    row = text.split(f'<td data-label="Request"><a href="/requests/{second}">#{second}</a></td>')[1].split("</tr>")[0]
    for cell in (
        "A new colleague needs an account",
        "Access or account",
        "New",
        "State compact office",
        "2026-03-10 10:00 CDT",
    ):  # the stopped clock, as it reads at the agency in Texas
        assert cell in row
    row = text.split(f'<td data-label="Request"><a href="/requests/{first}">#{first}</a></td>')[1].split("</tr>")[0]
    assert "I can't log in" in row and "Local IT" in row
    assert "2 requests, newest first." in text


def test_the_status_filter(app: Flask, org: Org, login: Login) -> None:
    done = file_request(app, org, "ana", "login")
    pending = file_request(app, org, "ana", "error")
    closed = file_request(app, org, "ana", "slow")
    change(app, done, status="resolved")
    change(app, pending, status="pending")
    change(app, closed, status="closed")
    fresh = file_request(app, org, "ana", "other")
    client = login("ana")
    assert listed(client, "?status=open")[2] == [fresh, pending]
    assert listed(client, "?status=done")[2] == [closed, done]
    assert listed(client, "?status=all")[2] == listed(client)[2] == [fresh, closed, pending, done]
    text = listed(client, "?status=done")[1]
    assert '<option value="done" selected>Resolved or closed</option>' in text and "Closed" in text
    assert "Waiting for you" in listed(client, "?status=open")[1]


def test_pages_of_25(app: Flask, org: Org, login: Login) -> None:
    made = [file_request(app, org, "ana", "other", subject=f"Question number {n}") for n in range(27)]
    client = login("ana")
    _, text, ids = listed(client, "?status=all")
    assert ids == made[::-1][:25] and "Page 1 of 2" in text and 'rel="next" href="/requests?status=all&page=2"' in text
    _, text, ids = listed(client, "?status=all&page=2")
    assert ids == [made[1], made[0]] and 'rel="prev"' in text
    _, text, ids = listed(client, "?page=9")
    assert ids == [] and "Go to the first page" in text


def test_the_empty_states_lead_to_the_form(app: Flask, org: Org, login: Login) -> None:
    client = login("ana")
    _, text, ids = listed(client)
    assert ids == [] and "You have not sent any requests yet." in text and 'href="/requests/new"' in text
    file_request(app, org, "ana", "login")
    _, text, _ = listed(client, "?status=done")
    assert "You have no resolved or closed requests." in text and 'href="/requests?status=all"' in text


@pytest.mark.parametrize("query", ["?status=bogus", "?page=0", "?page=x"])
def test_a_bad_filter_is_a_400_that_still_lists(app: Flask, org: Org, login: Login, query: str) -> None:
    mine = file_request(app, org, "ana", "login")
    status, text, ids = listed(login("ana"), query)
    assert status == 400 and ids == [mine] and 'class="field-error"' in text


def test_my_requests_needs_a_signed_in_user(client: FlaskClient) -> None:
    response = client.get("/requests")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
