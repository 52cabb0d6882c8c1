"""A new visitor's kept page opens no database transaction; counters changed anywhere show within `MAX_AGE`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from helpdesk import create_app
from helpdesk.kb.kept_stats import MAX_AGE, KeptStats
from helpdesk.kb.stats import Stats
from tests.factories import make_user, sign_in
from tests.helpers import close_app, csrf_of, post_form

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI

SLUG = "errors-and-technical-support"
ARTICLE = f"/articles/{SLUG}"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Check the content version once a minute, as a worker does every few seconds (not at each request)."""
    return {**app_config, "INDEX_CHECK_SECONDS": 60}


@contextmanager
def database_work(app: Flask) -> Iterator[list[str]]:
    """Record every statement the request thread sends, BEGIN and COMMIT included, and each transaction begun."""
    seen: list[str] = []
    engine = app.extensions["helpdesk.db"][0]
    request_thread = threading.get_ident()

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if threading.get_ident() == request_thread:
            seen.append(sql)

    def begin(_conn: Any) -> None:  # PostgreSQL's BEGIN is implicit in the driver: count the transaction instead
        if threading.get_ident() == request_thread:
            seen.append("(transaction begun)")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "begin", begin)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "begin", begin)


def counts_shown(client: FlaskClient, path: str = ARTICLE) -> str:
    page = client.get(path).get_data(as_text=True)
    return "1 out of 1" if "1 out of 1" in page else "none" if "out of" not in page else "other"


def vote_yes(client: FlaskClient) -> None:
    page = client.get(ARTICLE).get_data(as_text=True)
    assert client.post(f"{ARTICLE}/vote", data={"helpful": "yes", "csrf_token": csrf_of(page)}).status_code == 303


@pytest.mark.parametrize("path", [ARTICLE, "/"])
def test_a_new_visitor_s_kept_page_opens_no_transaction(app: Flask, path: str) -> None:
    app.test_client().get(path)  # the first visitor reads the counters and renders the page
    for visitor in (app.test_client(), app.test_client(use_cookies=False)):
        with database_work(app) as seen:
            assert visitor.get(path).status_code == 200
        assert seen == []


def test_a_voter_and_a_signed_in_reader_read_the_counters_themselves(app: Flask, client: FlaskClient) -> None:
    vote_yes(client)
    with database_work(app) as seen:
        assert "1 out of 1" in client.get(ARTICLE).get_data(as_text=True)
    assert any("article_stats" in s for s in seen) and any("FROM vote" in s for s in seen)
    member = app.test_client()
    sign_in(member, make_user(app))
    with database_work(app) as seen:
        member.get(ARTICLE)
    assert any("article_stats" in s for s in seen)


def test_a_change_shows_at_once_through_its_own_app(app: Flask) -> None:
    reader = app.test_client()
    assert counts_shown(reader) == "none"
    vote_yes(app.test_client())
    assert counts_shown(reader) == counts_shown(app.test_client()) == "1 out of 1"


def test_changes_through_one_app_show_through_another_within_the_bound(app: Flask) -> None:
    """Two workers on one database: a vote and a comment made through one reach the other's new visitors."""
    other = create_app({**app.config})
    now = [0.0]
    kept: KeptStats = other.extensions["helpdesk.kept_stats"]
    kept.clock = lambda: now[0]
    try:
        reader = other.test_client()
        assert counts_shown(reader) == counts_shown(reader, "/") == "none"
        vote_yes(app.test_client())
        now[0] += MAX_AGE / 2
        # Kept: this worker has not heard of the vote yet.
        assert counts_shown(reader) == counts_shown(reader, "/") == "none"
        now[0] += MAX_AGE / 2
        assert counts_shown(reader) == counts_shown(reader, "/") == "1 out of 1"
        author = app.test_client()
        sign_in(author, make_user(app))
        body = "Clearing the cache fixed it."
        assert post_form(author, f"{ARTICLE}/comments", {"body": body}, form_page=ARTICLE).status_code == 303
        assert body not in reader.get(ARTICLE).get_data(as_text=True)
        now[0] += MAX_AGE
        assert body in reader.get(ARTICLE).get_data(as_text=True)
    finally:
        close_app(other)


def test_a_change_during_a_read_is_not_kept() -> None:
    kept = KeptStats()

    def read_while_a_vote_commits() -> Stats:
        kept.drop([SLUG])
        return Stats(helpful=0, total=0)

    assert kept.get(SLUG, read_while_a_vote_commits) == Stats()
    assert kept.get(SLUG, lambda: Stats(helpful=1, total=1)) == Stats(helpful=1, total=1)
    assert kept.get(SLUG, lambda: Stats()) == Stats(helpful=1, total=1)  # kept now
    kept.drop(["another-article"])
    assert kept.get(SLUG, lambda: Stats()) == Stats(helpful=1, total=1)  # other articles' changes leave it
