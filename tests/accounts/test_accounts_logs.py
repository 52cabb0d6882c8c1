"""Secrets in the server's own log: a reset link's token must not reach the access log of `helpdesk serve`."""

from __future__ import annotations

import secrets
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import start_server, stop_server


@pytest.mark.slow  # a subprocess server or CLI
def test_reset_tokens_stay_out_of_the_access_log(tmp_path: Path) -> None:
    process, base = start_server(tmp_path, workers=1)
    token = secrets.token_urlsafe(32)  # shaped like a real link's token; the request line is logged either way
    try:
        try:
            with urllib.request.urlopen(f"{base}/reset/{token}", timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
            error.close()
        assert status == 410
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:  # a request that is logged
            assert response.status == 200
        time.sleep(0.5)  # let the server flush its log lines
    finally:
        stop_server(process)
    log = (tmp_path / "server.log").read_text()
    assert "/healthz" in log or "GET" in log  # the access log is on, so the check below means something
    assert token not in log
