"""The `helpdesk` command: index, search, db upgrade, and serve under a real WSGI server."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from tests.helpers import start_server, stop_server


def test_index_builds_and_checks(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["index"])
    assert result.exit_code == 0, result.output
    assert "indexed 4 articles as" in result.output
    assert runner.invoke(args=["index", "--check"]).exit_code == 0
    shutil.rmtree(app.config["INDEX_DIR"])
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


def test_serve_creates_database_and_index_and_answers(server: str, tmp_path: Path) -> None:
    assert (tmp_path / "instance" / "helpdesk.sqlite3").exists()
    assert any((tmp_path / "index").iterdir())
    with urllib.request.urlopen(f"{server}/") as response:
        assert "How can we help?" in response.read().decode()
    with urllib.request.urlopen(f"{server}/api/v1/search?q=sluggish") as response:
        body = json.loads(response.read())
    assert body["results"][0]["question_id"] == "what-do-i-do-when-the-page-is-loading-slowly"


def test_serve_keeps_answering_when_the_index_is_deleted(server: str, tmp_path: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            shutil.rmtree(tmp_path / "index")
            break
        except OSError:  # a worker was writing its warm-up file into the index at that moment: delete again
            if time.monotonic() > deadline:
                raise
    for _ in range(6):  # several requests, so that both workers meet the missing index
        with urllib.request.urlopen(f"{server}/api/v1/search?q=caps+lock") as response:
            assert response.status == 200 and json.loads(response.read())["results"]
    with urllib.request.urlopen(f"{server}/healthz") as response:
        assert response.status == 200
