"""Database fail-over on PostgreSQL: connections terminated under a running app answer 200 (retried) or 503."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from helpdesk import orm as database
from helpdesk.extensions import db
from helpdesk.mail.delivery import OutgoingMail, deliver_due
from helpdesk.mail.models import OutboxMessage
from tests.helpers import close_app, read_csrf_token, start_server, stop_server

pytestmark = pytest.mark.db

ARTICLE = "/articles/errors-and-technical-support"
TERMINATE = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


@pytest.fixture
def pg_url(database_url: str) -> str:
    """The PostgreSQL database under test (these tests kill its connections)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: set HELPDESK_TEST_DATABASE_URL")
    return database_url


def terminate_others(url: str) -> int:
    """Terminate every other connection to the test database, as a fail-over or a restart does; return how many."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as connection:
        return sum(1 for (done,) in connection.execute(TERMINATE) if done)


def test_a_get_on_a_dropped_connection_is_retried(app: Flask, client: FlaskClient, pg_url: str) -> None:
    assert client.get(ARTICLE).status_code == 200
    assert client.get("/api/v1/articles").status_code == 200
    assert terminate_others(pg_url) >= 1  # the app's pooled connections
    assert client.get(ARTICLE).status_code == 200
    assert client.get("/api/v1/articles").status_code == 200


def test_healthz_on_a_dropped_connection_connects_afresh(app: Flask, client: FlaskClient, pg_url: str) -> None:
    assert client.get("/healthz").status_code == 200
    assert terminate_others(pg_url) >= 1  # the pooled connection the check used
    answer = client.get("/healthz")
    assert (answer.status_code, answer.get_json()["database"]) == (200, "ok")


@pytest.fixture
def dropping_app(app: Flask, pg_url: str) -> tuple[Flask, list[str]]:
    """The app with two test pages that lose their connection in the middle of the request, every time."""
    calls: list[str] = []

    def drop() -> Any:
        calls.append("run")
        db.session.execute(text("SELECT 1"))
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as killer:
            killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
        db.session.execute(text("SELECT 1"))
        return jsonify(ok=True)

    app.add_url_rule("/test/drop", "test_drop", drop, methods=["GET", "POST"])
    app.add_url_rule("/api/v1/test/drop", "api_test_drop", drop, methods=["GET"])
    return app, calls


def test_a_connection_lost_mid_request_answers_503_with_retry_after(dropping_app: tuple[Flask, list[str]]) -> None:
    app, calls = dropping_app
    client = app.test_client()
    page = client.get("/test/drop")
    assert page.status_code == 503 and page.headers["Retry-After"].isdigit()
    assert page.mimetype == "text/html" and "try again" in page.get_data(as_text=True)
    assert len(calls) == 2  # a GET is run once more on a fresh connection before giving up
    api = client.get("/api/v1/test/drop")
    assert api.status_code == 503 and api.headers["Retry-After"].isdigit()
    assert api.json["error"] == "unavailable"
    calls.clear()
    token = read_csrf_token(client)
    assert client.post("/test/drop", headers={"X-CSRFToken": token}).status_code == 503
    assert len(calls) == 1  # a POST is never run twice
    assert client.get(ARTICLE).status_code == 200  # and the next request works


def test_after_the_database_is_back_a_write_works_first_time(
    app: Flask, client: FlaskClient, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = read_csrf_token(client)
    vote = {"json": {"helpful": True}, "headers": {"X-CSRFToken": token}}
    assert client.post("/api/v1/articles/errors-and-technical-support/vote", **vote).status_code == 200
    terminate_others(pg_url)
    monkeypatch.setattr(database, "PING_IDLE_SECONDS", 0.0)  # as after a quiet spell: the pool pings first
    assert client.post("/api/v1/articles/errors-and-technical-support/vote", **vote).status_code == 200


class DroppingBackend:
    """Sends (records) the mail, and the database connections drop while it is out: as in a fail-over."""

    def __init__(self, url: str) -> None:
        self.url, self.sent = url, []  # type: tuple[str, list[str]]

    def send(self, mail: OutgoingMail) -> None:
        self.sent.append(mail.message_id)
        terminate_others(self.url)

    def close(self) -> None:
        pass


def test_a_mail_sent_while_the_connection_drops_is_marked_sent(app: Flask, pg_url: str) -> None:
    with app.app_context():
        sessions: Callable[[], Session] = sessionmaker(db.engine, expire_on_commit=False)
        with sessions() as session, session.begin():
            row = OutboxMessage(
                message_id="<drop@helpdesk.test>",
                recipient="alice@example.org",
                subject="Hi",
                body_text="Hello\n",
                body_html=None,
                kind="test",
            )
            session.add(row)
        backend = DroppingBackend(pg_url)
        counts = deliver_due(sessions, backend, worker_id="test")
        with sessions() as session:
            status = session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == row.id))
    assert backend.sent == ["<drop@helpdesk.test>"]
    assert (counts.sent, status) == (1, "sent")


@pytest.fixture
def pg_server(tmp_path: Path, pg_url: str) -> Iterator[str]:
    """`helpdesk serve` with 2 workers (and its deliverer and sweep) on the test database."""
    process, base = start_server(tmp_path, workers=2, extra_env={"DATABASE_URL": pg_url})
    yield base
    stop_server(process)


def _status(url: str) -> tuple[int, str | None]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Retry-After")


@pytest.mark.slow  # a subprocess server or CLI
def test_a_real_server_never_answers_500_when_its_connections_are_terminated(pg_server: str, pg_url: str) -> None:
    paths = [ARTICLE, "/", "/api/v1/articles", "/search?q=password", "/api/v1/search?q=password", "/healthz"]
    for _ in range(2):  # both workers hold pooled connections
        assert {_status(pg_server + path)[0] for path in paths} == {200}
    for _ in range(3):
        assert terminate_others(pg_url) >= 1
        answers = [_status(pg_server + path) for path in paths * 2]
        assert all(status == 200 or (status == 503 and retry) for status, retry in answers), answers
    assert {_status(pg_server + path)[0] for path in paths} == {200}


def test_redis_down_falls_back_to_per_process_limits(app_config: dict[str, Any]) -> None:
    """Rate limits kept in Redis: while it is away, requests are served and limited per process, never a 500."""
    from helpdesk import create_app
    from tests.smtp_server import free_port

    app = create_app(
        {
            **app_config,
            "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{free_port()}/0",
            "VOTE_LIMIT_PER_VOTER": "3 per minute",
        }
    )
    try:
        client = app.test_client()
        assert client.get(ARTICLE).status_code == 200
        assert client.get("/search?q=password").status_code == 200
        token = read_csrf_token(client)
        statuses = [
            client.post(
                "/api/v1/articles/errors-and-technical-support/vote",
                json={"helpful": True},
                headers={"X-CSRFToken": token},
            ).status_code
            for _ in range(4)
        ]
    finally:
        close_app(app)
    assert statuses == [200, 200, 200, 429]
