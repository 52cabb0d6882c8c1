"""Benchmark: time to serve pages in-process, against a baseline of the same app serving a static file.

Run: .venv/bin/python bench/pages.py [--requests 500]
The baseline is the floor of this stack (Flask routing, security headers, test client): a static CSS file.
Then the knowledge base kept in the database: the article page served from the database against the same page
from the files (today's way), interleaved in one run; the editor's preview round trip; and the time from a
publish on one instance until a second instance on the same database serves the article and finds it.

With --serve it starts `helpdesk serve --workers 2` instead (SQLite, or --database-url) and drives it over HTTP
with --connections keep-alive connections for --seconds per page: requests per second and p50, each beside the
static file's of the same run. --source runs another checkout of the app (e.g. an older commit, for before/after).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

from helpdesk import create_app  # noqa: E402
from helpdesk.orm import upgrade_database  # noqa: E402

PAGES = [
    ("article page", "/articles/user-administration-and-system-access"),
    ("home page", "/"),
    ("search page (cached query)", "/search?q=password+reset"),
    ("API search (cached query)", "/api/v1/search?q=password+reset"),
    ("healthz", "/healthz"),
]


def measure(client: FlaskClient, path: str, requests: int) -> list[float]:
    """Return per-request milliseconds for `requests` GETs of `path` (after 20 warm-up requests)."""
    for _ in range(20):
        client.get(path)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times


def summary(times: list[float]) -> str:
    """Return p50/p95/p99 in ms."""
    ordered = sorted(times)
    p95, p99 = (ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in (0.95, 0.99))
    return f"p50 {statistics.median(ordered):6.2f} ms  p95 {p95:6.2f} ms  p99 {p99:6.2f} ms"


def main() -> None:
    """Print page timings and their ratio to the static-file baseline."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--serve", action="store_true", help="measure a real server over HTTP")
    parser.add_argument("--database-url", default="", help="with --serve: PostgreSQL instead of SQLite")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--source", type=Path, default=ROOT, help="with --serve: the checkout to run")
    args = parser.parse_args()
    if args.serve:
        from served import run_served

        run_served(
            PAGES,
            database_url=args.database_url,
            seconds=args.seconds,
            connections=args.connections,
            source=args.source,
        )
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        upgrade_database(url)
        app = create_app(
            {
                "DATABASE_URL": url,
                "INSTANCE_DIR": Path(tmp),
                "INDEX_DIR": Path(tmp) / "index",
                "SECRET_KEY": "bench",
                "RATELIMIT_ENABLED": False,
            }
        )
        client = app.test_client()
        client.get("/healthz")  # builds the index
        baseline = measure(client, "/static/css/app.css", args.requests)
        print(f"{'baseline: static file':32} {summary(baseline)}")
        for label, path in PAGES:
            times = measure(client, path, args.requests)
            ratio = statistics.median(times) / statistics.median(baseline)
            print(f"{label:32} {summary(times)}  ({ratio:.1f}x baseline p50)")
        editor_figures(app, client, Path(tmp), args.requests)
        app.extensions["helpdesk.search"].close()
        app.extensions["helpdesk.db"][0].dispose()


def interleaved(first: Callable[[], object], second: Callable[[], object], rounds: int) -> tuple[list[float], ...]:
    """Time `first` and `second` alternately (so that machine load hits both alike); return both lists in ms."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for action, into in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            action()
            into.append((time.perf_counter() - started) * 1000)
    return times


def editor_figures(app: Flask, client: FlaskClient, tmp: Path, requests: int) -> None:
    """Print the database-backed article page against the file-backed one, the preview, and publish-to-serve."""
    from helpdesk.kb.library import LibraryStore

    files = create_app({**app.config})
    files.extensions["helpdesk.library"] = LibraryStore(ROOT / "articles", app.config["INDEX_CHECK_SECONDS"])
    file_client, path = files.test_client(), "/articles/user-administration-and-system-access"
    measure(file_client, path, 20)
    from_db, from_files = interleaved(lambda: client.get(path), lambda: file_client.get(path), requests)
    ratio = statistics.median(from_db) / statistics.median(from_files)
    print(f"{'article page, database':32} {summary(from_db)}  ({ratio:.2f}x the file-backed page)")
    print(f"{'article page, files (today)':32} {summary(from_files)}")
    files.extensions["helpdesk.search"].close()
    files.extensions["helpdesk.db"][0].dispose()

    users = json.loads(app.test_cli_runner().invoke(args=["demo", "--json"]).output)["users"]
    editor = next(u for u in users if u["role"] == "kb_editor" and u["state"] is None)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"email": editor["email"], "password": editor["password"], "csrf_token": token})
    page = client.get("/editor").get_data(as_text=True)  # the session changed at sign-in: so did its token
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    body = (ROOT / "articles" / "errors-and-technical-support.md").read_text(encoding="utf-8").split("---", 2)[2]
    times = []
    for _ in range(max(50, requests // 5)):
        started = time.perf_counter()
        response = client.post("/editor/preview", data={"body": body, "slug": ""}, headers={"X-CSRFToken": token})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    print(f"{'editor preview round trip':32} {summary(times)}  (target: under 50 ms)")
    publish_to_other(app, client, token, tmp)


def publish_to_other(app: Flask, client: FlaskClient, token: str, tmp: Path) -> None:
    """Publish on this instance; time until a second instance (own index, same database) serves and finds it."""
    interval = 1.0
    other = create_app({**app.config, "INDEX_DIR": tmp / "other-index", "INDEX_CHECK_SECONDS": interval})
    reader = other.test_client()
    reader.get("/healthz")
    results = []
    for n in range(5):
        word = f"zebracrossing{n}"
        started = time.perf_counter()
        response = client.post(
            "/api/v1/editor/articles",
            headers={"X-CSRFToken": token},
            json={
                "title": f"Bench article {n}",
                "section": "access",
                "publish": True,
                "body": f"Intro.\n\n## Where is the {word}?\n\nOutside.\n",
            },
        )
        assert response.status_code == 201, response.get_json()
        served = found = None
        while found is None and time.perf_counter() - started < 30:
            if served is None and reader.get(f"/articles/bench-article-{n}").status_code == 200:
                served = time.perf_counter() - started
            hits = reader.get("/api/v1/search", query_string={"q": word}).get_json()["results"]
            if served is not None and hits:
                found = time.perf_counter() - started
            time.sleep(0.02)
        results.append((served or float("nan"), found or float("nan")))
    print(
        f"{'publish -> other instance':32} page served after p50 {statistics.median(r[0] for r in results):.2f} s, "
        f"found by search after p50 {statistics.median(r[1] for r in results):.2f} s "
        f"(index check interval {interval:.0f} s; target: under {interval + 1:.0f} s)"
    )
    other.extensions["helpdesk.search"].close()
    other.extensions["helpdesk.db"][0].dispose()


if __name__ == "__main__":
    main()
