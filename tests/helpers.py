"""Helpers shared by the tests."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.smtp_server import free_port

REPO = Path(__file__).resolve().parent.parent

#: The page's CSRF token, as every layout carries it (the one pattern the tests read it with).
META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def close_app(app: Flask) -> None:
    """Release what an app made in a test holds: its search-log writer (its queued searches are written now, into
    this test's database, not a second later into the next test's), its index files and its connections."""
    app.extensions["helpdesk.search.log"].close()
    app.extensions["helpdesk.search"].close()
    app.extensions["helpdesk.db"][0].dispose()


def csrf_of(page: str) -> str:
    """Return the CSRF token of a page's HTML."""
    match = META_TOKEN.search(page)
    assert match, "no csrf-token meta"
    return match.group(1)


def without_csrf(page: str) -> str:
    """Return the page with its (per-session) CSRF token replaced by a placeholder, for comparing pages."""
    match = META_TOKEN.search(page)
    return page.replace(match.group(1), "CSRF") if match else page


def read_csrf_token(client: FlaskClient, path: str = "/") -> str:
    """Read the CSRF token from a page, as the browser's scripts do."""
    page = client.get(path).get_data(as_text=True)
    assert META_TOKEN.search(page), f"no csrf-token meta on {path}"
    return csrf_of(page)


def post_form(
    client: FlaskClient, path: str, data: dict[str, Any], *, form_page: str | None = None, **options: Any
) -> TestResponse:
    """Post a form the way a browser does: with the CSRF token of a page just read (`form_page`, else `path`)."""
    token = read_csrf_token(client, form_page or path)
    return client.post(path, data={**data, "csrf_token": token}, **options)


def server_env(tmp_path: Path, port: int, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """Return the environment of a test server: private dirs, its own port and base URL, SQLite."""
    env = {
        **os.environ,
        "HELPDESK_INSTANCE_DIR": str(tmp_path / "instance"),
        "HELPDESK_INDEX_DIR": str(tmp_path / "index"),
        "HELPDESK_PORT": str(port),
        "HELPDESK_BASE_URL": f"http://127.0.0.1:{port}",
    }
    for key in ("DATABASE_URL", "MAIL_SERVER", "MAIL_PORT"):
        env.pop(key, None)
    env.update(extra_env or {})
    return env


def start_server(
    tmp_path: Path,
    *,
    workers: int = 2,
    extra_env: dict[str, str] | None = None,
    port: int | None = None,
    args: tuple[str, ...] = (),
    port_option: bool = False,
) -> tuple[subprocess.Popen[str], str]:
    """Start `helpdesk serve` on a free port with private dirs; return the process and its base URL.

    With `port_option`, the port is given as `--port` instead of HELPDESK_PORT (and no HELPDESK_BASE_URL is set)."""
    port = port or free_port()
    env = server_env(tmp_path, port, extra_env)
    command = [sys.executable, "-m", "helpdesk", "serve", "--workers", str(workers), *args]
    if port_option:
        del env["HELPDESK_PORT"], env["HELPDESK_BASE_URL"]
        command += ["--port", str(port)]
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:  # a file, not a pipe: a chatty server must never block on a full pipe
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("server did not become healthy within 60 s")


def stop_server(process: subprocess.Popen[str]) -> None:
    """Stop a server started by `start_server`."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def remove_tree(path: Path, timeout: float = 30) -> None:
    """Delete a directory that a running server may be writing into: move it aside at once (so that the path is
    gone, as after `rm -rf`), then delete the moved copy, retrying while a writer still finishes a file in it."""
    aside = path.with_name(f"{path.name}.deleted-{time.monotonic_ns()}")
    path.rename(aside)
    deadline = time.monotonic() + timeout
    while aside.exists():
        try:
            shutil.rmtree(aside)
        except OSError:  # "Directory not empty" (a file appeared meanwhile), or one vanished under rmtree
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def timing_difference(first: Sequence[float], second: Sequence[float], *, floor: float) -> str | None:
    """Compare interleaved timings (first[i] and second[i] taken in the same round); return what differs, or None.

    The median of the paired differences must be within `floor`, or within three median absolute deviations of
    those differences on a busier machine: load slows both of a pair alike, while a real difference (work one path
    skips) shifts every pair by the same amount."""
    differences = [a - b for a, b in zip(first, second, strict=True)]
    middle = statistics.median(differences)
    spread = statistics.median(abs(d - middle) for d in differences)
    tolerance = max(floor, 3 * spread)
    if abs(middle) < tolerance:
        return None
    return (
        f"median difference {middle:.4f} s beyond {tolerance:.4f} s (spread {spread:.4f} s): "
        f"{[round(x, 4) for x in first]} vs {[round(x, 4) for x in second]}"
    )
