"""Hot pages are cheap: vote counts from a counter row kept exact, few queries, conditional GET when signed out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import case, event, func, select

from helpdesk.extensions import db
from helpdesk.kb.models import Vote
from helpdesk.kb.stats import Stats, get_stats
from tests.factories import make_user, sign_in
from tests.helpers import csrf_of, post_form, read_csrf_token

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI

SLUG = "errors-and-technical-support"
ARTICLE = f"/articles/{SLUG}"
API_URL = f"/api/v1/articles/{SLUG}/vote"


def counter_and_recount(app: Flask) -> tuple[Stats, tuple[int, int]]:
    """Return the counter row and the counts recomputed from the vote rows."""
    with app.app_context():
        stats = get_stats(db.session, SLUG)
        helpful, total = db.session.execute(
            select(func.coalesce(func.sum(case((Vote.helpful.is_(True), 1), else_=0)), 0), func.count()).where(
                Vote.article_slug == SLUG
            )
        ).one()
        db.session.rollback()
    return stats, (int(helpful), int(total))


def vote(client: FlaskClient, token: str, helpful: bool) -> int:
    return client.post(API_URL, json={"helpful": helpful}, headers={"X-CSRFToken": token}).status_code


def test_counter_follows_every_change_of_a_vote(app: Flask, client: FlaskClient, csrf_token: str) -> None:
    other = app.test_client()
    other_token = read_csrf_token(other)
    for c, t, helpful, expected in [
        (client, csrf_token, True, (1, 1)),
        (client, csrf_token, True, (1, 1)),
        (client, csrf_token, False, (0, 1)),
        (other, other_token, False, (0, 2)),
        (client, csrf_token, True, (1, 2)),
        (other, other_token, True, (2, 2)),
    ]:
        assert c.post(API_URL, json={"helpful": helpful}, headers={"X-CSRFToken": t}).json == dict(
            zip(("helpful", "total"), expected, strict=True)
        )
        stats, recount = counter_and_recount(app)
        assert (stats.helpful, stats.total) == recount == expected


def test_concurrent_votes_and_changes_keep_the_counter_exact(app: Flask) -> None:
    """Voters flip Yes/No at once, several requests per voter in flight: the counter equals the vote rows."""
    voters, rounds = 12, 4
    clients = [app.test_client() for _ in range(voters)]
    tokens = [read_csrf_token(c, "/request") for c in clients]
    for c, t in zip(clients, tokens, strict=True):  # every voter has a cookie and an earlier vote
        assert vote(c, t, True) == 200
    barrier = threading.Barrier(voters * 2)
    failures: list[Any] = []

    def flip(c: FlaskClient, token: str, start: bool) -> None:
        barrier.wait()
        for i in range(rounds):
            status = vote(c, token, (i % 2 == 0) == start)
            if status != 200:
                failures.append(status)

    threads = [
        threading.Thread(target=flip, args=(c, t, start))
        for c, t in zip(clients, tokens, strict=True)
        for start in (True, False)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    stats, recount = counter_and_recount(app)
    assert (stats.helpful, stats.total) == recount
    assert stats.total == voters


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Collect the SQL statements the app sends (transaction control left out)."""
    seen: list[str] = []
    engine = app.extensions["helpdesk.db"][0]
    request_thread = threading.get_ident()  # the test client serves the request in this thread

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # Background threads (index and phrasing checks) are not the page's cost; nor is the content-version check
        # that a worker makes at most once per HELPDESK_INDEX_CHECK_SECONDS, whichever request happens to make it.
        if threading.get_ident() != request_thread or "FROM kb_content_state" in statement:
            return
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_voter_s_article_view_reads_two_rows(app: Flask, client: FlaskClient, csrf_token: str) -> None:
    assert vote(client, csrf_token, True) == 200
    client.get(ARTICLE)  # warm up: library, index, session
    with statements(app) as seen:
        assert client.get(ARTICLE).status_code == 200
    # The counters and the voter's own vote; a new visitor reads none (tests/test_kept_stats.py).
    assert len(seen) == 2 and "article_stats" in seen[0] and "FROM vote" in seen[1], seen


def test_comments_are_counted_and_read_only_when_there_are_some(app: Flask, client: FlaskClient) -> None:
    user = make_user(app)
    sign_in(client, user)
    assert (
        post_form(client, f"{ARTICLE}/comments", {"body": "Restarting fixed it."}, form_page=ARTICLE).status_code == 303
    )
    reader = app.test_client()
    with statements(app) as seen:
        page = reader.get(ARTICLE).get_data(as_text=True)
    assert "Restarting fixed it." in page
    assert any("FROM comment" in s for s in seen)
    with app.app_context():
        assert get_stats(db.session, SLUG).comments == 1


def etag_get(client: FlaskClient, path: str, etag: str | None = None) -> Any:
    return client.get(path, headers={"If-None-Match": etag} if etag else {})


@pytest.mark.parametrize("path", [ARTICLE, "/"])
def test_conditional_get_for_signed_out_pages(app: Flask, client: FlaskClient, path: str) -> None:
    first = etag_get(client, path)
    etag = first.headers["ETag"].strip('"')
    assert first.status_code == 200 and first.headers["Cache-Control"] == "private, no-cache"
    again = etag_get(client, path, first.headers["ETag"])
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"].strip('"') == etag
    # Another browser (another session, hence another CSRF token in the page) never gets this page.
    assert etag_get(app.test_client(), path, first.headers["ETag"]).status_code == 200
    # A vote by someone else changes the counts shown: the page changes.
    voter = app.test_client()
    assert vote(voter, read_csrf_token(voter, "/request"), True) == 200
    after = etag_get(client, path, first.headers["ETag"])
    assert after.status_code == 200 and after.headers["ETag"].strip('"') != etag
    assert "1 out of 1" in after.get_data(as_text=True)


def test_etag_changes_with_a_comment_and_the_own_vote(app: Flask, client: FlaskClient, csrf_token: str) -> None:
    before = etag_get(client, ARTICLE).headers["ETag"]
    assert vote(client, csrf_token, False) == 200  # my own "No": the page now offers the reason form
    mine = etag_get(client, ARTICLE, before)
    assert mine.status_code == 200 and "You answered No" in mine.get_data(as_text=True)
    author = app.test_client()
    sign_in(author, make_user(app))
    post_form(author, f"{ARTICLE}/comments", {"body": "Worked for me."}, form_page=ARTICLE)
    commented = etag_get(client, ARTICLE, mine.headers["ETag"])
    assert commented.status_code == 200 and "Worked for me." in commented.get_data(as_text=True)


def test_signed_in_pages_get_no_etag(app: Flask, client: FlaskClient) -> None:
    sign_in(client, make_user(app))
    response = client.get(ARTICLE)
    assert "ETag" not in response.headers and response.headers["Cache-Control"] == "no-store"


def test_migration_fills_the_counters_from_existing_votes(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import create_engine, text

    from helpdesk.orm import alembic_config

    config = alembic_config(database_url)
    command.downgrade(config, "0004")
    engine = create_engine(database_url)
    with engine.begin() as connection:
        for i, (slug, helpful) in enumerate([("a", True), ("a", False), ("a", True), ("b", False)]):
            connection.execute(
                text(
                    "INSERT INTO vote (article_slug, voter_key, helpful, created_at, updated_at) "
                    "VALUES (:slug, :key, :helpful, :now, :now)"
                ),
                {"slug": slug, "key": f"c:{i}", "helpful": helpful, "now": "2026-01-01 00:00:00"},
            )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT article_slug, helpful, total, comments FROM article_stats ORDER BY article_slug")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("a", 2, 3, 0), ("b", 0, 1, 0)]


def test_health_is_cheap_and_deep_on_request(app: Flask, client: FlaskClient) -> None:
    assert client.get("/healthz").json["status"] == "ok"  # builds the missing index once
    engine = app.extensions["helpdesk.search"]
    calls: list[str] = []
    original_ensure, original_check = engine.ensure_index, engine.check
    engine.ensure_index = lambda: calls.append("ensure") or original_ensure()
    engine.check = lambda: calls.append("check") or original_check()
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert calls == []  # no index work per call
    deep = client.get("/healthz?deep=1")
    assert deep.status_code == 200 and deep.json["index"] == "ok"
    assert calls == ["ensure", "check"]


@contextmanager
def renders(app: Flask) -> Iterator[list[str]]:
    """Record the templates rendered meanwhile."""
    from flask import template_rendered

    seen: list[str] = []

    def record(_sender: Flask, template: Any, **_extra: Any) -> None:
        seen.append(template.name)

    template_rendered.connect(record, app)
    try:
        yield seen
    finally:
        template_rendered.disconnect(record, app)


@pytest.mark.parametrize("path", [ARTICLE, "/"])
def test_a_kept_page_carries_each_session_s_own_token(app: Flask, path: str) -> None:
    first, second = app.test_client(), app.test_client()
    first_page = first.get(path).get_data(as_text=True)
    with renders(app) as seen:
        second_page = second.get(path).get_data(as_text=True)
    assert seen == []  # the second browser got the kept page, not a new rendering
    assert csrf_of(second_page) != csrf_of(first_page) and "\0" not in second_page
    assert second_page.replace(csrf_of(second_page), "") == first_page.replace(csrf_of(first_page), "")
    # The token put in works: the plain vote form posts with it.
    answer = second.post(f"{ARTICLE}/vote", data={"helpful": "yes", "csrf_token": csrf_of(second_page)})
    assert answer.status_code == 303


def test_a_kept_page_never_carries_a_flash_a_vote_or_a_signed_in_header(app: Flask) -> None:
    voter, reader = app.test_client(), app.test_client()
    reader.get(ARTICLE)  # kept: the signed-out page with no vote
    page = voter.get(ARTICLE).get_data(as_text=True)
    voter.post(f"{ARTICLE}/vote", data={"helpful": "no", "csrf_token": csrf_of(page)})
    flashed = voter.get(ARTICLE).get_data(as_text=True)
    assert "What was missing?" in flashed and "You answered No" in flashed
    again = reader.get(ARTICLE).get_data(as_text=True)
    assert "What was missing?" not in again and "You answered" not in again and "0 out of 1" in again
    user = make_user(app, name="Dana Whitfield")
    member = app.test_client()
    sign_in(member, user)
    assert "Dana Whitfield" in member.get(ARTICLE).get_data(as_text=True)
    assert "Dana Whitfield" not in reader.get(ARTICLE).get_data(as_text=True)


def test_kept_pages_age_out_and_stay_few() -> None:
    from helpdesk.kb.page_cache import PageCache

    cache = PageCache(size=2, max_age=60)
    for key in "abc":
        cache.put(key, key.upper())
    assert cache.get("a") is None and cache.get("b") == "B" and cache.get("c") == "C"
    stale = PageCache(max_age=0)
    stale.put("a", "A")
    assert stale.get("a") is None
