"""Two `helpdesk serve` hosts (own instance and index folders) on one PostgreSQL and one Redis act as one site."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from helpdesk.accounts.api_tokens import create_api_token
from helpdesk.accounts.models import User
from helpdesk.audit.services import Origin
from helpdesk.extensions import db
from helpdesk.locks import exclusive
from helpdesk.mail.models import OutboxMessage
from tests.factories import make_user
from tests.helpers import REPO, server_env, start_server, stop_server
from tests.smtp_server import LoopbackSMTP, free_port

pytestmark = pytest.mark.db

REDIS_URL = os.environ.get("HELPDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
ARTICLE = "errors-and-technical-support"
VOTES_PER_ADDRESS = 4
MAILS = 12


def _redis_up() -> bool:
    host, port = re.match(r"redis://([^:/]+):?(\d*)", REDIS_URL).groups()  # type: ignore[union-attr]
    try:
        with socket.create_connection((host, int(port or 6379)), timeout=1):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], Any], timeout: float = 60, what: str = "") -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)  # a polling step, not a wait for something to happen


class Browser:
    """One person's HTTP client: cookies shared across both hosts (same address), optional bearer token."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            url,
            data=data,
            method=method,
            headers={
                **({"Content-Type": "application/json"} if data else {}),
                **({"Authorization": f"Bearer {self.token}"} if self.token else {}),
                **(headers or {}),
            },
        )
        try:
            with self.opener.open(request, timeout=30) as response:
                raw, status = response.read(), response.status
        except urllib.error.HTTPError as exc:
            raw, status = exc.read(), exc.code
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", "replace")


@pytest.fixture
def site(app: Flask, database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Hosts A and B (each with its deliverer and sweep) on the test PostgreSQL, Redis and one SMTP sink."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: set HELPDESK_TEST_DATABASE_URL")
    if not _redis_up():
        pytest.skip(f"needs Redis at {REDIS_URL}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # this database index is the test's own
    people = {
        key: make_user(app, role=role, state=state, agency="Travis County Probation", email=f"{key}@example.gov")
        for key, role, state in [("ana", "po", "TX"), ("pat", "local_it", "TX"), ("eve", "kb_editor", None)]
    }
    with app.app_context():
        tokens = {
            key: create_api_token(db.session, actor=db.session.get(User, person.id), name="two hosts", origin=Origin())[
                1
            ]
            for key, person in people.items()
        }
        db.session.commit()
    smtp = LoopbackSMTP().start()
    env = {
        "DATABASE_URL": database_url,
        "HELPDESK_REDIS_URL": REDIS_URL,
        "HELPDESK_SECRET_KEY": secrets.token_hex(32),
        "MAIL_SERVER": smtp.host,
        "MAIL_PORT": str(smtp.port),
        "HELPDESK_VOTE_LIMIT_PER_ADDRESS": f"{VOTES_PER_ADDRESS} per minute",
        "HELPDESK_INDEX_CHECK_SECONDS": "1",
    }
    hosts: list[tuple[subprocess.Popen[str], str]] = []
    try:
        for name in ("a", "b"):  # one after the other: the first start imports the seed articles
            (tmp_path / name).mkdir()
            hosts.append(start_server(tmp_path / name, workers=2, extra_env=env))
        yield {"a": hosts[0][1], "b": hosts[1][1], "tokens": tokens, "smtp": smtp, "env": env}
    finally:
        for process, _ in hosts:
            stop_server(process)
        smtp.stop()
        redis.Redis.from_url(REDIS_URL).flushdb()


def test_two_hosts_behave_as_one_site(app: Flask, site: dict[str, Any]) -> None:
    a, b, tokens = site["a"], site["b"], site["tokens"]
    # A vote through A is counted through B.
    voter = Browser()
    status, page = voter.call("GET", f"{a}/articles/{ARTICLE}")
    csrf = {"X-CSRFToken": re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)}  # type: ignore
    assert voter.call("POST", f"{a}/api/v1/articles/{ARTICLE}/vote", {"helpful": True}, csrf)[0] == 200
    assert voter.call("GET", f"{b}/api/v1/articles/{ARTICLE}")[1]["votes"] == {"helpful": 1, "total": 1}
    # The per-address vote limit is counted in Redis: the (N+1)-th vote across both hosts is refused.
    statuses = [
        voter.call("POST", f"{host}/api/v1/articles/{ARTICLE}/vote", {"helpful": False}, csrf)[0]
        for host in (b, a, b, a)
    ]
    assert statuses == [200] * (VOTES_PER_ADDRESS - 1) + [429]
    assert voter.call("GET", f"{a}/api/v1/articles/{ARTICLE}")[1]["votes"] == {"helpful": 0, "total": 1}

    # A request filed through A is in local IT's queue through B.
    ana, pat = Browser(tokens["ana"]), Browser(tokens["pat"])
    status, ticket = ana.call(
        "POST", f"{a}/api/v1/tickets", {"category": "login", "subject": "Locked out", "description": "It says denied."}
    )
    assert status == 201, ticket
    status, queue = pat.call("GET", f"{b}/api/v1/tickets")
    assert status == 200 and ticket["id"] in [row["id"] for row in queue["tickets"]]

    # An article published, then edited, through A is found by B's search (B's own index catches up).
    eve = Browser(tokens["eve"])
    status, created = eve.call(
        "POST",
        f"{a}/api/v1/editor/articles",
        {"title": "Badge printer", "section": "access", "body": "The quokkaprinter needs a badge.", "publish": True},
    )
    assert status == 201, created

    def found(word: str) -> Callable[[], bool]:
        return lambda: (
            created["slug"]
            in [hit["article"] for hit in Browser().call("GET", f"{b}/api/v1/search?q={word}")[1]["results"]]
        )

    wait_until(found("quokkaprinter"), what="B's search to find the new article")
    status, edited = eve.call(
        "PUT",
        f"{a}/api/v1/editor/articles/{created['slug']}",
        {
            "title": "Badge printer",
            "section": "access",
            "body": "The wombatprinter needs a badge.",
            "base_revision": created["revision"],
            "publish": True,
        },
    )
    assert status == 200 and edited["status"] == "published", edited
    wait_until(found("wombatprinter"), what="B's search to find the edit")


def test_each_mail_is_delivered_once_by_two_deliverers(app: Flask, site: dict[str, Any]) -> None:
    smtp: LoopbackSMTP = site["smtp"]
    ids = [f"<two-hosts-{n}@helpdesk.test>" for n in range(MAILS)]
    with app.app_context():
        db.session.add_all(
            OutboxMessage(
                message_id=message_id,
                recipient=f"r{n}@example.org",
                subject=f"Mail {n}",
                body_text="Hello\n",
                body_html=None,
                kind="test",
            )
            for n, message_id in enumerate(ids)
        )
        db.session.commit()

    def all_sent() -> bool:
        with app.app_context():
            try:
                return (
                    db.session.scalar(
                        select(func.count()).where(OutboxMessage.message_id.in_(ids), OutboxMessage.status == "sent")
                    )
                    == MAILS
                )
            finally:
                db.session.rollback()

    wait_until(all_sent, what="both deliverers to send the mails")
    received = [message["Message-ID"] for message in smtp.messages]
    assert sorted(m for m in received if m in ids) == sorted(ids)
    assert len(received) == len(set(received))  # nothing (ours or the ticket notifications) went out twice


def test_the_escalation_pass_runs_on_one_host_at_a_time(app: Flask, site: dict[str, Any], tmp_path: Path) -> None:
    with app.app_context():
        engine = db.engine
    # Two concurrent passes: the second finds the lock taken and skips; once released, it is free again.
    results: list[bool] = []

    def second_pass() -> None:
        with exclusive(engine, "helpdesk.escalate-test") as mine:
            results.append(mine)

    with exclusive(engine, "helpdesk.escalate-test") as first:
        assert first
        thread = threading.Thread(target=second_pass)
        thread.start()
        thread.join()
        assert results == [False]  # another connection (another host) cannot take it
    with exclusive(engine, "helpdesk.escalate-test") as after:
        assert after

    # The real command: while this test holds the sweep's lock, `helpdesk escalate` skips its pass.
    env = server_env(tmp_path, free_port(), site["env"])

    def escalate() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "helpdesk", "escalate"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def take() -> Any:
        context = exclusive(engine, "helpdesk.escalate")
        if context.__enter__():
            return context
        context.__exit__(None, None, None)
        return None  # a host's loop holds it for its pass right now

    context = wait_until(take, what="the sweep lock")
    try:
        assert "skipped: another host is sweeping" in escalate()
    finally:
        context.__exit__(None, None, None)

    def own_pass() -> str | None:
        out = escalate()
        return None if "skipped" in out else out  # a host's loop held the lock for its pass just then

    assert "escalated 0 overdue requests" in wait_until(own_pass, what="a pass of our own")
