"""SQLite: read-only requests take no lock, so pages answer while a writer holds the database's write lock."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from helpdesk.database import make_request_engine as make_engine
from helpdesk.extensions import db
from helpdesk.search.models import SearchQuery
from helpdesk.search.services import log_search
from tests.helpers import read_csrf_token

SLUG = "errors-and-technical-support"
#: Far below the 30 s busy timeout a locked read would wait before failing.
BOUND = 10.0


@pytest.fixture
def sqlite_path(database_url: str) -> str:
    """The test's SQLite file (these tests are about SQLite's locks)."""
    if not database_url.startswith("sqlite:///"):
        pytest.skip("SQLite locking: the database under test is PostgreSQL")
    return database_url.removeprefix("sqlite:///")


@pytest.fixture
def writer(sqlite_path: str) -> Iterator[sqlite3.Connection]:
    """Another process's long write transaction: BEGIN IMMEDIATE with a write, held open."""
    connection = sqlite3.connect(sqlite_path, isolation_level=None, timeout=30)
    connection.execute("BEGIN IMMEDIATE")
    connection.execute(
        "INSERT INTO search_query (query, hits, source, created_at) VALUES ('held', 0, 'page', '2026-01-01 00:00:00')"
    )
    yield connection
    if connection.in_transaction:
        connection.rollback()
    connection.close()


def _get_all(app: Flask, paths: list[str]) -> dict[str, Any]:
    """GET each path on a thread; return their statuses once all answered, or raise after BOUND seconds."""
    results: dict[str, Any] = {}

    def run() -> None:
        client = app.test_client()
        for path in paths:
            results[path] = client.get(path).status_code

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(BOUND)
    assert not thread.is_alive(), f"pages blocked behind the writer; answered so far: {results}"
    return results


def test_pages_answer_while_a_writer_holds_the_lock(app: Flask, writer: sqlite3.Connection) -> None:
    paths = [f"/articles/{SLUG}", "/", "/sections/access", f"/api/v1/articles/{SLUG}", "/api/v1/articles"]
    assert _get_all(app, paths) == dict.fromkeys(paths, 200)
    assert writer.in_transaction  # the writer kept its lock all along


def test_a_search_answers_under_the_writer_and_its_log_row_is_written_after(
    app: Flask, writer: sqlite3.Connection
) -> None:
    """The search page answers at once; its queued log row waits for the writer's lock, then is written."""
    assert app.test_client().get("/search?q=password").status_code == 200
    flush = threading.Thread(target=app.extensions["helpdesk.search.log"].flush, daemon=True)
    flush.start()
    assert _logged(writer) == 0  # nothing else can write while the writer holds the lock
    writer.execute("COMMIT")
    flush.join(BOUND * 3)
    assert not flush.is_alive()
    assert _logged(writer) == 1


def _logged(connection: sqlite3.Connection) -> int:
    return int(connection.execute("SELECT count(*) FROM search_query WHERE query = 'password'").fetchone()[0])


def test_a_read_then_write_get_never_fails_with_busy_snapshot(app: Flask, sqlite_path: str) -> None:
    """A GET reads (deferred), another connection commits a write, then the GET writes: no SQLITE_BUSY_SNAPSHOT."""
    with app.test_request_context("/search?q=x", method="GET"):
        before = db.session.scalar(select(func.count()).select_from(SearchQuery))  # the read snapshot starts here
        other = sqlite3.connect(sqlite_path, isolation_level=None, timeout=30)
        other.execute(
            "INSERT INTO search_query (query, hits, source, created_at) "
            "VALUES ('other', 0, 'page', '2026-01-01 00:00:00')"
        )
        other.close()
        log_search(db.session, "mine", hits=0, source="page")
        db.session.commit()
        assert before == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SearchQuery)) == 2


def test_only_read_only_requests_begin_deferred(app: Flask, database_url: str, writer: sqlite3.Connection) -> None:
    """Outside a read-only request (a POST, the CLI, a sweep) a transaction takes the write lock at BEGIN."""
    engine = make_engine(database_url)
    event.listen(engine, "connect", lambda connection, _record: connection.execute("PRAGMA busy_timeout=50"))
    try:
        for method in ("POST", None):
            with contextlib.ExitStack() as stack:
                if method:
                    stack.enter_context(app.test_request_context("/", method=method))
                connection = stack.enter_context(engine.connect())
                with pytest.raises(OperationalError, match="locked"):
                    connection.execute(select(func.count()).select_from(SearchQuery))
        with app.test_request_context("/", method="GET"), engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(SearchQuery)).scalar() == 0
    finally:
        engine.dispose()


def test_a_write_kept_waiting_past_the_busy_timeout_answers_503(app: Flask, writer: sqlite3.Connection) -> None:
    engine = app.extensions["helpdesk.db"][0]
    engine.dispose()
    event.listen(engine, "connect", lambda connection, _record: connection.execute("PRAGMA busy_timeout=100"))
    client = app.test_client()
    token = read_csrf_token(client)  # a read: answered despite the writer
    response = client.post(f"/api/v1/articles/{SLUG}/vote", json={"helpful": True}, headers={"X-CSRFToken": token})
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    assert response.json["error"] == "unavailable"
