"""Helpfulness votes: one per voter per article, changeable, exact under concurrency, rate-limited per voter."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from helpdesk.extensions import db
from helpdesk.kb.models import Vote
from helpdesk.kb.voters import COOKIE
from tests.factories import make_user, sign_in
from tests.helpers import read_csrf_token

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI

SLUG = "errors-and-technical-support"
VOTE_URL = f"/articles/{SLUG}/vote"
API_URL = f"/api/v1/articles/{SLUG}/vote"
OTHER_API_URL = "/api/v1/articles/icots-privacy-policy/vote"


def vote_rows(app: Flask) -> list[Vote]:
    with app.app_context():
        return list(db.session.scalars(select(Vote).order_by(Vote.id)))


def test_form_vote_counts_and_can_be_changed(app: Flask, client: FlaskClient, csrf_token: str) -> None:
    response = client.post(VOTE_URL, data={"helpful": "yes", "csrf_token": csrf_token})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/articles/{SLUG}#feedback")
    page = client.get(f"/articles/{SLUG}").get_data(as_text=True)
    assert "1 out of 1 found this helpful" in page
    assert "You answered Yes" in page
    client.post(VOTE_URL, data={"helpful": "no", "csrf_token": csrf_token})
    page = client.get(f"/articles/{SLUG}").get_data(as_text=True)
    assert "0 out of 1 found this helpful" in page
    assert [(v.helpful, v.voter_key.startswith("c:")) for v in vote_rows(app)] == [(False, True)]


def test_nothing_is_said_until_someone_votes(client: FlaskClient, csrf_token: str) -> None:
    page = client.get(f"/articles/{SLUG}").get_data(as_text=True)
    assert "Was this article helpful?" in page
    assert "found this helpful" not in page and "0 out of 0" not in page
    client.post(VOTE_URL, data={"helpful": "no", "csrf_token": csrf_token})
    page = client.get(f"/articles/{SLUG}").get_data(as_text=True)
    assert "0 out of 1 found this helpful" in page


def test_one_what_was_missing_box_after_a_no(client: FlaskClient, csrf_token: str) -> None:
    page = client.get(f"/articles/{SLUG}").get_data(as_text=True)
    assert page.count("<textarea") == 1 and "data-reason-form hidden" in page  # before a vote: none shown
    assert "What was missing" not in page.split("data-reason-form")[0]  # the vote form has no reason box
    client.post(VOTE_URL, data={"helpful": "no", "csrf_token": csrf_token})
    page = client.get(f"/articles/{SLUG}").get_data(as_text=True)
    assert page.count("What was missing or wrong?") == 1 and "data-reason-form hidden" not in page
    client.post(VOTE_URL, data={"helpful": "yes", "csrf_token": csrf_token})
    assert "data-reason-form hidden" in client.get(f"/articles/{SLUG}").get_data(as_text=True)


def test_a_refused_reason_keeps_the_typed_text(client: FlaskClient, csrf_token: str) -> None:
    response = client.post(
        f"{VOTE_URL}/reason", data={"reason": "It never says who to call.", "csrf_token": csrf_token}
    )
    assert response.status_code == 400
    assert "It never says who to call." in response.get_data(as_text=True)


def test_voter_cookie_is_random_http_only(client: FlaskClient, csrf_token: str) -> None:
    response = client.post(VOTE_URL, data={"helpful": "yes", "csrf_token": csrf_token})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("hd_voter="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert len(cookie.split(";")[0].split("=", 1)[1]) >= 24


def test_no_vote_keeps_its_reason(app: Flask, client: FlaskClient, csrf_token: str) -> None:
    client.post(VOTE_URL, data={"helpful": "no", "csrf_token": csrf_token})
    page = client.get(f"/articles/{SLUG}").get_data(as_text=True)
    assert "data-reason-form" in page and "data-reason-form hidden" not in page  # the reason form is offered
    response = client.post(
        f"{VOTE_URL}/reason", data={"reason": "  It does not say who my IT is. ", "csrf_token": csrf_token}
    )
    assert response.status_code == 303
    assert vote_rows(app)[0].reason == "It does not say who my IT is."


def test_reason_is_dropped_from_a_yes(app: Flask, client: FlaskClient, csrf_token: str) -> None:
    client.post(VOTE_URL, data={"helpful": "yes", "reason": "great", "csrf_token": csrf_token})
    assert vote_rows(app)[0].reason is None


def test_reason_without_a_no_vote_is_refused(app: Flask, client: FlaskClient, csrf_token: str) -> None:
    response = client.post(f"{VOTE_URL}/reason", data={"reason": "x", "csrf_token": csrf_token})
    assert response.status_code == 400
    assert "Answer Yes or No first" in response.get_data(as_text=True)
    assert vote_rows(app) == []


@pytest.mark.parametrize("data", [{"helpful": "maybe"}, {}, {"helpful": "no", "reason": "x" * 501}])
def test_bad_form_votes_change_nothing(app: Flask, client: FlaskClient, csrf_token: str, data: dict[str, str]) -> None:
    response = client.post(VOTE_URL, data={**data, "csrf_token": csrf_token})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Choose Yes or No." in body or "under 500 characters" in body
    assert vote_rows(app) == []


def test_votes_need_a_csrf_token(app: Flask, client: FlaskClient) -> None:
    assert client.post(VOTE_URL, data={"helpful": "yes"}).status_code == 400
    assert client.post(VOTE_URL, data={"helpful": "yes", "csrf_token": "forged"}).status_code == 400
    response = client.post(API_URL, json={"helpful": True})
    assert response.status_code == 400 and response.json["error"] == "bad_request"
    assert "CSRF" in response.json["message"]
    assert vote_rows(app) == []


def test_api_vote_returns_counts(client: FlaskClient, csrf_token: str) -> None:
    headers = {"X-CSRFToken": csrf_token}
    assert client.post(API_URL, json={"helpful": True}, headers=headers).json == {"helpful": 1, "total": 1}
    assert client.post(API_URL, json={"helpful": False, "reason": "outdated"}, headers=headers).json == {
        "helpful": 0,
        "total": 1,
    }


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("not json", 400, "invalid_json"),
        ([1, 2], 400, "invalid_json"),
        ({"helpful": "yes"}, 422, "invalid_helpful"),
        ({}, 422, "invalid_helpful"),
        ({"helpful": False, "reason": 5}, 422, "invalid_reason"),
        ({"helpful": False, "reason": "x" * 501}, 422, "invalid_reason"),
    ],
)
def test_bad_api_votes_get_json_errors(
    app: Flask, client: FlaskClient, csrf_token: str, body: Any, status: int, code: str
) -> None:
    headers = {"X-CSRFToken": csrf_token}
    if isinstance(body, str):
        response = client.post(API_URL, data=body, headers={**headers, "Content-Type": "application/json"})
    else:
        response = client.post(API_URL, json=body, headers=headers)
    assert response.status_code == status
    assert response.json["error"] == code and response.json["message"]
    assert vote_rows(app) == []


def test_vote_on_unknown_article_is_404(client: FlaskClient, csrf_token: str) -> None:
    response = client.post(
        "/api/v1/articles/no-such-article/vote", json={"helpful": True}, headers={"X-CSRFToken": csrf_token}
    )
    assert response.status_code == 404 and response.json["error"] == "not_found"


def test_one_voter_is_rate_limited_but_not_the_office(app: Flask, client: FlaskClient, csrf_token: str) -> None:
    headers = {"X-CSRFToken": csrf_token}
    statuses = [client.post(API_URL, json={"helpful": i % 2 == 0}, headers=headers).status_code for i in range(11)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429
    # A colleague behind the same address still votes.
    colleague = app.test_client()
    token = read_csrf_token(colleague)
    assert colleague.post(API_URL, json={"helpful": True}, headers={"X-CSRFToken": token}).status_code == 200


def test_a_whole_office_behind_one_address_can_vote_within_a_minute(app: Flask) -> None:
    """300 people behind one NAT address, who were given their voter ids earlier, vote in the same minute."""
    clients = [app.test_client() for _ in range(300)]
    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(days=1), tick=False) as clock:
        tokens = [read_csrf_token(c, "/request") for c in clients]
        for hour in range(5):  # the office got its ids over a few hours (60 new ids an hour from one address)
            for c, t in list(zip(clients, tokens, strict=True))[hour * 60 : (hour + 1) * 60]:
                assert c.post(OTHER_API_URL, json={"helpful": True}, headers={"X-CSRFToken": t}).status_code == 200
            clock.shift(dt.timedelta(hours=1))
    statuses = {
        c.post(API_URL, json={"helpful": True}, headers={"X-CSRFToken": t}).status_code
        for c, t in zip(clients, tokens, strict=True)
    }
    assert statuses == {200}
    assert len([v for v in vote_rows(app) if v.article_slug == SLUG]) == 300


def voter_cookie(response: TestResponse) -> str | None:
    """Return the voter id cookie the response sets, if any."""
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")]
    return found[0].split(";")[0].split("=", 1)[1] if found else None


@pytest.mark.parametrize("forged", ["A" * 24, "made-up-voter-id-0001.c2lnbmF0dXJl", ""])
def test_a_voter_id_the_server_did_not_issue_is_ignored(
    app: Flask, client: FlaskClient, csrf_token: str, forged: str
) -> None:
    client.set_cookie(COOKIE, forged)
    response = client.post(API_URL, json={"helpful": True}, headers={"X-CSRFToken": csrf_token})
    issued = voter_cookie(response)
    assert response.status_code == 200 and issued and issued != forged
    [row] = vote_rows(app)
    assert row.voter_key != f"c:{forged}" and row.voter_key == f"c:{issued.split('.')[0]}"
    # The signed id the server issued is honoured: the same voter changes their vote, no second row.
    again = client.post(API_URL, json={"helpful": False}, headers={"X-CSRFToken": csrf_token})
    assert again.status_code == 200 and voter_cookie(again) is None
    assert [(v.voter_key, v.helpful) for v in vote_rows(app)] == [(row.voter_key, False)]
    # Its signature binds the id: another id under the same signature is a new voter.
    client.set_cookie(COOKIE, "B" * 24 + issued[24:])
    assert voter_cookie(client.post(API_URL, json={"helpful": True}, headers={"X-CSRFToken": csrf_token}))
    assert len(vote_rows(app)) == 2


def test_random_voter_cookies_from_one_address_stop_at_the_hourly_limit(
    app: Flask, client: FlaskClient, csrf_token: str
) -> None:
    headers = {"X-CSRFToken": csrf_token}
    with time_machine.travel(dt.datetime.now(dt.UTC), tick=False) as clock:
        statuses, cookies = [], []
        for _ in range(70):  # a script sends a fresh random cookie with every vote
            client.set_cookie(COOKIE, secrets.token_urlsafe(18))
            response = client.post(API_URL, json={"helpful": True}, headers=headers)
            statuses.append(response.status_code)
            cookies.append(voter_cookie(response))
        assert statuses == [200] * 60 + [429] * 10  # HELPDESK_NEW_VOTERS_PER_ADDRESS: 60 per hour
        assert all(cookies[:60]) and cookies[60:] == [None] * 10  # a refused vote gets no id to come back with
        assert len(vote_rows(app)) == 60
        # People who already hold an id, and signed-in people, still vote from that address.
        client.set_cookie(COOKIE, cookies[0] or "")
        assert client.post(API_URL, json={"helpful": False}, headers=headers).status_code == 200
        colleague = app.test_client()
        assert sign_in(colleague, make_user(app)).status_code == 303
        token = read_csrf_token(colleague, "/")
        assert colleague.post(API_URL, json={"helpful": True}, headers={"X-CSRFToken": token}).status_code == 200
        assert len(vote_rows(app)) == 61
        clock.shift(dt.timedelta(hours=1, seconds=1))  # the next hour gives new ids again
        client.set_cookie(COOKIE, secrets.token_urlsafe(18))
        assert client.post(API_URL, json={"helpful": True}, headers=headers).status_code == 200
    assert len(vote_rows(app)) == 62


def test_concurrent_votes_are_counted_exactly(app: Flask) -> None:
    """Threads vote at once (distinct voters, and one voter repeating): counts stay exact."""
    voters = 24
    clients = [app.test_client() for _ in range(voters)]
    tokens = [read_csrf_token(c, "/request") for c in clients]
    repeat_client, repeat_token = clients[0], tokens[0]
    # Voter 0 has voted before (so has its cookie) and now sends five votes at once.
    assert repeat_client.post(API_URL, json={"helpful": True}, headers={"X-CSRFToken": repeat_token}).status_code == 200
    barrier = threading.Barrier(voters + 4)
    failures: list[int] = []

    def cast(c: FlaskClient, token: str, helpful: bool) -> None:
        barrier.wait()
        status = c.post(API_URL, json={"helpful": helpful}, headers={"X-CSRFToken": token}).status_code
        if status != 200:
            failures.append(status)

    pairs = list(enumerate(zip(clients, tokens, strict=True)))
    threads = [threading.Thread(target=cast, args=(c, t, i % 3 != 0)) for i, (c, t) in pairs]
    threads += [threading.Thread(target=cast, args=(repeat_client, repeat_token, False)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(Vote))
        helpful = db.session.scalar(select(func.count()).select_from(Vote).where(Vote.helpful.is_(True)))
    assert total == voters
    # Voter 0 voted No five times; of the others, every third votes No.
    assert helpful == sum(1 for i in range(1, voters) if i % 3 != 0)
