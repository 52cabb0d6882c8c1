"""Benchmark: time to serve pages in-process, against a baseline of the same app serving a static file.

Run: .venv/bin/python bench/pages.py [--requests 500]
The baseline is the floor of this stack (Flask routing, security headers, test client): a static CSS file.

With --serve it starts `helpdesk serve --workers 2` instead (SQLite, or --database-url) and drives it over HTTP
with --connections keep-alive connections for --seconds per page: requests per second and p50, each beside the
static file's of the same run. --source runs another checkout of the app (e.g. an older commit, for before/after).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask.testing import FlaskClient  # noqa: E402

from helpdesk import create_app  # noqa: E402
from helpdesk.database import upgrade_database  # noqa: E402

PAGES = [("article page", "/articles/user-administration-and-system-access"), ("home page", "/"),
         ("search page (cached query)", "/search?q=password+reset"),
         ("API search (cached query)", "/api/v1/search?q=password+reset"), ("healthz", "/healthz")]


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

        run_served(PAGES, database_url=args.database_url, seconds=args.seconds, connections=args.connections,
                   source=args.source)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        upgrade_database(url)
        app = create_app({"DATABASE_URL": url, "INSTANCE_DIR": Path(tmp), "INDEX_DIR": Path(tmp) / "index",
                          "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
        client = app.test_client()
        client.get("/healthz")  # builds the index
        baseline = measure(client, "/static/css/app.css", args.requests)
        print(f"{'baseline: static file':32} {summary(baseline)}")
        for label, path in PAGES:
            times = measure(client, path, args.requests)
            ratio = statistics.median(times) / statistics.median(baseline)
            print(f"{label:32} {summary(times)}  ({ratio:.1f}x baseline p50)")
        app.extensions["helpdesk.db"][0].dispose()


if __name__ == "__main__":
    main()
