"""The gunicorn access log of `helpdesk serve` never holds the token of a password link."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import start_server, stop_server

TOKEN = "Zq8pV3rT6wYb2nKd5sHj9LmC"  # link-shaped: 16 or more URL-safe characters


def _fetch(url: str | urllib.request.Request) -> None:
    try:
        with urllib.request.urlopen(url, timeout=10):
            pass
    except urllib.error.HTTPError:
        pass  # an unknown token answers an error page: only the log line matters here


@pytest.mark.slow  # a subprocess server
def test_the_access_log_shows_a_reset_link_without_its_token(tmp_path: Path) -> None:
    """The request line, path and referrer of a /reset/<token> request are logged with the token removed."""
    process, base = start_server(tmp_path, workers=1)
    log_path = tmp_path / "server.log"
    try:
        headers = {
            "Referer": f"{base}/reset/{TOKEN}",
            "User-Agent": "log-check/1.0",
            "Authorization": "Basic Zm9vOmJhcg==",
        }
        _fetch(urllib.request.Request(f"{base}/reset/{TOKEN}?from=mail", headers=headers))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "/reset/[removed after delivery]" not in log_path.read_text():
            time.sleep(0.1)
    finally:
        stop_server(process)
    log = log_path.read_text()
    assert "/reset/[removed after delivery]" in log  # the request was logged, redacted
    assert TOKEN not in log
    # The whole line, every field of gunicorn's combined format (built from only the variables it reads).
    removed = "/reset/[removed after delivery]"
    line = (
        re.escape(f'"GET {removed}?from=mail HTTP/1.1" ')
        + r"\d{3} \d+ "
        + re.escape(f'"{base}{removed}" "log-check/1.0"')
    )
    assert re.search(r"^127\.0\.0\.1 - foo \[[^]]+\] " + line + "$", log, re.M), log
