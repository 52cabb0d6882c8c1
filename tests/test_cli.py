"""The `helpdesk` command: index, search, db upgrade, and serve under a real WSGI server."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from tests.helpers import csrf_of, remove_tree, start_server, stop_server

T = TypeVar("T")


def test_index_builds_and_checks(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["index"])
    assert result.exit_code == 0, result.output
    assert "indexed 4 articles as" in result.output
    assert runner.invoke(args=["index", "--check"]).exit_code == 0
    remove_tree(app.config["INDEX_DIR"])  # a warm-up started by the check may still be writing into it
    check = runner.invoke(args=["index", "--check"])
    assert check.exit_code == 1 and "problem:" in check.output


def test_search_json_is_the_api_json(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["search", "forgotten password", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    api = app.test_client().get("/api/v1/search", query_string={"q": "forgotten password"}).json
    assert printed == api
    assert printed["results"][0]["question_id"] == "how-can-i-get-assistance-to-reset-my-password"


def test_search_prints_a_readable_list(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["search", "caps lock"])
    assert result.exit_code == 0 and "1. What do I do when I get an error" in result.output


def test_db_upgrade_is_idempotent(runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert "upgraded" in runner.invoke(args=["db", "upgrade"]).output


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A real `helpdesk serve` (gunicorn, two workers) on a free port."""
    process, base = start_server(tmp_path)
    yield base
    stop_server(process)


@pytest.mark.slow  # a subprocess server or CLI
def test_serve_creates_database_and_index_and_answers(server: str, tmp_path: Path) -> None:
    assert (tmp_path / "instance" / "helpdesk.sqlite3").exists()
    assert any((tmp_path / "index").iterdir())
    with urllib.request.urlopen(f"{server}/") as response:
        assert "How can we help?" in response.read().decode()
    with urllib.request.urlopen(f"{server}/api/v1/search?q=sluggish") as response:
        body = json.loads(response.read())
    assert body["results"][0]["question_id"] == "what-do-i-do-when-the-page-is-loading-slowly"


@pytest.mark.slow  # a subprocess server or CLI
def test_serve_keeps_answering_when_the_index_is_deleted(server: str, tmp_path: Path) -> None:
    remove_tree(tmp_path / "index")
    for _ in range(6):  # several requests, so that both workers meet the missing index
        with urllib.request.urlopen(f"{server}/api/v1/search?q=caps+lock") as response:
            assert response.status == 200 and json.loads(response.read())["results"]
    with urllib.request.urlopen(f"{server}/healthz") as response:
        assert response.status == 200


def _wait_for(condition: Callable[[], T | None], timeout: float = 60) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _reset_mail(mail_dir: Path) -> str | None:
    for path in sorted(mail_dir.glob("*.eml")) if mail_dir.is_dir() else []:
        text = path.read_text(encoding="utf-8", errors="replace")
        if "/reset/" in text:
            return text
    return None


@pytest.mark.slow  # a subprocess server or CLI
def test_serve_port_option_sets_the_base_url_of_the_sign_in_line_and_of_mailed_links(tmp_path: Path) -> None:
    """Issue 8, item 13: `serve --port P` means what HELPDESK_PORT=P means, links included (not :5000)."""
    process, base = start_server(tmp_path, workers=1, args=("--demo",), port_option=True)
    try:
        log = (tmp_path / "server.log").read_text()
        assert f"Sign in at {base}/login" in log
        assert f"links in e-mails use {base}" in log
        email = re.search(r"^(\S+@\S+)\s", log[log.index("E-mail") :], re.MULTILINE)
        assert email is not None
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with opener.open(f"{base}/forgot") as page:
            token = csrf_of(page.read().decode())
        form = urllib.parse.urlencode({"email": email.group(1), "csrf_token": token}).encode()
        with opener.open(f"{base}/forgot", data=form) as response:
            assert response.status == 200
        mail = _wait_for(lambda: _reset_mail(tmp_path / "instance" / "mail"))
        assert f"{base}/reset/" in mail and ":5000" not in mail
    finally:
        stop_server(process)


@pytest.mark.slow  # a subprocess server or CLI
def test_serve_answers_a_long_api_url_with_json(server: str) -> None:
    """Issue 8, item 12: gunicorn lets the app see URLs up to 8,190 bytes, so /api/ answers JSON 414 itself."""
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{server}/api/v1/search?q={'a' * 6000}")
    assert refused.value.code == 414
    assert json.loads(refused.value.read())["error"] == "uri_too_long"
