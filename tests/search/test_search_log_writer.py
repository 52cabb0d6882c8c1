"""The API's searches reach the search log in batches: written by the writer's thread, at close and at a server's
normal shutdown, counted by the gap report, and kept while the database cannot take them."""

from __future__ import annotations

import datetime as dt
import html
import re
import sqlite3
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select

from helpdesk.extensions import db
from helpdesk.insights.gaps import failed_searches
from helpdesk.insights.rollup import roll_up_search_log
from helpdesk.insights.scope import Period
from helpdesk.search.log_writer import SearchLogWriter
from helpdesk.search.models import SearchClick, SearchQuery
from tests.helpers import close_app, start_server, stop_server

pytestmark = pytest.mark.db  # run again against PostgreSQL in CI


def _logged(app: Flask) -> list[tuple[str, str, int]]:
    with app.app_context():
        rows = db.session.scalars(select(SearchQuery).order_by(SearchQuery.id)).all()
        db.session.rollback()
        return [(r.query, r.source, r.hits) for r in rows]


def _wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_api_searches_wait_in_the_queue_then_are_written_in_one_batch(
    slow_writer_config: dict[str, Any], app: Flask, client: FlaskClient
) -> None:
    writer: SearchLogWriter = app.extensions["helpdesk.search.log"]
    for text in ("password reset", "printer jam", "password reset"):
        assert client.get("/api/v1/search", query_string={"q": text}).status_code == 200
    assert writer.pending() == 3 and _logged(app) == []  # the requests wrote nothing
    assert writer.flush() == 3
    logged = _logged(app)
    assert [(q, s) for q, s, _ in logged] == [("password reset", "api"), ("printer jam", "api")] + [
        ("password reset", "api")
    ]
    assert logged[0][2] > 0 and writer.pending() == 0


def test_the_writer_thread_writes_within_its_interval(app_config: dict[str, Any]) -> None:
    app_config["SEARCH_LOG_FLUSH_SECONDS"] = 0.05
    from helpdesk import create_app

    app = create_app(app_config)
    try:
        app.test_client().get("/api/v1/search", query_string={"q": "locked out"})
        _wait_for(lambda: _logged(app) != [])
        assert [(q, s) for q, s, _ in _logged(app)] == [("locked out", "api")]
    finally:
        close_app(app)


def test_close_writes_what_is_queued(slow_writer_config: dict[str, Any], app: Flask, client: FlaskClient) -> None:
    client.get("/api/v1/search", query_string={"q": "transfer request"})
    app.extensions["helpdesk.search.log"].close()
    assert [(q, s) for q, s, _ in _logged(app)] == [("transfer request", "api")]


def _first_hit_link(client: FlaskClient, query: str) -> str:
    page = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    links = re.findall(r'href="(/search/open\?[^"]+)"', page)
    assert links, page
    return html.unescape(links[0])


def _clicks(app: Flask) -> list[tuple[int, str, int | None]]:
    with app.app_context():
        rows = db.session.scalars(select(SearchClick).order_by(SearchClick.id)).all()
        db.session.rollback()
        return [(r.search_id, r.article_slug, r.rank) for r in rows]


def test_a_hit_opened_from_the_page_finds_its_queued_search(
    slow_writer_config: dict[str, Any], app: Flask, client: FlaskClient
) -> None:
    link = _first_hit_link(client, "password reset")
    assert _logged(app) == [] and "sid=" not in link  # queued: the link names the search by its time
    assert client.get(link).status_code == 303
    [(query, source, hits)] = _logged(app)
    assert (query, source) == ("password reset", "page") and hits > 0
    with app.app_context():
        search_id = db.session.scalar(select(SearchQuery.id))
    assert [(s, r) for s, _, r in _clicks(app)] == [(search_id, 1)]


def test_a_hit_opened_on_the_other_worker_waits_for_its_batch(app_config: dict[str, Any]) -> None:
    """Two workers share the database: the page came from one, the click reaches the other."""
    from helpdesk import create_app

    app_config["SEARCH_LOG_FLUSH_SECONDS"] = 0.3
    shown, other = create_app(app_config), create_app(app_config)
    try:
        browser = shown.test_client()
        link = _first_hit_link(browser, "locked out")
        clicking = other.test_client()
        clicking.environ_base["REMOTE_ADDR"] = "127.0.0.1"  # the same person: the test clients' address
        assert clicking.get(link).status_code == 303  # answered at once: the click waits in the other's queue
        _wait_for(lambda: _clicks(other) != [])  # written once the showing worker's batch brought the search
        [(query, source, _)] = _logged(shown)
        assert (query, source) == ("locked out", "page")
        with other.app_context():
            search_id = db.session.scalar(select(SearchQuery.id))
        assert [(s, r) for s, _, r in _clicks(other)] == [(search_id, 1)]
    finally:
        for app in (shown, other):
            close_app(app)


def test_a_link_names_only_its_own_users_search(
    slow_writer_config: dict[str, Any], app: Flask, client: FlaskClient
) -> None:
    link = _first_hit_link(client, "password reset")
    stranger = app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    assert stranger.get(link).status_code == 303  # still opens the answer
    app.extensions["helpdesk.search.log"].flush()
    assert len(_logged(app)) == 1 and _clicks(app) == []  # but records no click on someone else's search


def test_a_search_written_after_its_day_was_rolled_up_is_counted(
    slow_writer_config: dict[str, Any], app: Flask
) -> None:
    writer: SearchLogWriter = app.extensions["helpdesk.search.log"]
    # Late yesterday (UTC), so that an hour earlier is still yesterday whenever the test runs (not so after midnight).
    yesterday = dt.datetime.combine(dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1), dt.time(23, 59), dt.UTC)
    with app.app_context():
        writer.add("fax machine", hits=0, source="api", person="p1", at=yesterday - dt.timedelta(hours=1))
        writer.flush()
        assert roll_up_search_log(db.session) >= 1  # yesterday is rolled up: the reports read its rollup now
        # Searched just before midnight, still queued when the day was rolled up:
        writer.add("fax machine", hits=0, source="api", person="p2", at=yesterday)
        writer.flush()
        period = Period(yesterday.date(), yesterday.date())
        [fax] = failed_searches(db.session, period, None)["zero_result"]
        assert (fax.query, fax.searches, fax.people) == ("fax machine", 2, 2)


def test_a_click_waits_only_for_a_recent_search(app: Flask) -> None:
    writer: SearchLogWriter = app.extensions["helpdesk.search.log"]  # the default: a batch a second
    click = {"person": "p1", "article_slug": "a", "question_id": None, "rank": 1}
    writer.add_click(at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5), **click)  # its search is long written
    writer.add_click(at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5), **click)  # no search is made then
    assert writer.pending() == 0
    writer.add_click(at=dt.datetime.now(dt.UTC), **click)
    assert writer.pending() == 1


def test_rows_stay_queued_while_the_database_cannot_take_them(tmp_path: Path) -> None:
    broken = tmp_path / "empty.sqlite3"
    sqlite3.connect(broken).close()  # a database without the table: every write fails
    engine = create_engine(f"sqlite:///{broken}")
    writer = SearchLogWriter(engine, 3600)
    writer.add("printer", hits=1, source="api", person=None)
    assert writer.flush() == 0 and writer.pending() == 1
    writer.close()  # fails again without raising, keeps the row, and leaves no exit hook to try it once more
    assert writer.pending() == 1
    engine.dispose()


def test_unknown_source_is_refused(slow_writer_config: dict[str, Any], app: Flask) -> None:
    from helpdesk.search.services import log_search_later

    with app.app_context(), pytest.raises(ValueError):
        log_search_later(db.session, app.extensions["helpdesk.search.log"], "x", hits=0, source="nope")


@pytest.mark.slow  # a subprocess server
def test_a_served_workers_queued_searches_are_written_when_it_stops(tmp_path: Path) -> None:
    process, base = start_server(tmp_path, workers=2, extra_env={"HELPDESK_SEARCH_LOG_FLUSH_SECONDS": "3600"})
    try:
        for number in range(12):
            with urllib.request.urlopen(f"{base}/api/v1/search?q=password+reset+{number}", timeout=30) as response:
                assert response.status == 200
    finally:
        stop_server(process)  # SIGTERM: gunicorn stops its workers gracefully
    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'helpdesk.sqlite3'}")
    with engine.connect() as connection:
        queries = connection.scalars(select(SearchQuery.query).where(SearchQuery.source == "api")).all()
        assert connection.scalar(select(func.count()).select_from(SearchQuery)) == 12
    engine.dispose()
    assert sorted(queries) == sorted(f"password reset {n}" for n in range(12))
