"""Benchmark: in-process CPU per request of the hot signed-out pages, each beside the static file's, interleaved.

Run: .venv/bin/python bench/hot.py [--rounds 9] [--requests 200] [--database-url postgresql://...bench...]
Every request comes from a new visitor (no cookies), as under wrk. Each round times --requests GETs of the static
file, the article page and home in turn with the process's CPU clock; the figures are the medians of the rounds
(load from other jobs shifts wall time, much less CPU time), and the pages' ratios to the static file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpdesk import create_app  # noqa: E402
from helpdesk.orm import upgrade_database  # noqa: E402

PATHS = [
    ("static file", "/static/css/app.css"),
    ("article page (signed out)", "/articles/user-administration-and-system-access"),
    ("home", "/"),
]


def cpu_ms(client: object, path: str, requests: int) -> float:
    """Return the CPU milliseconds per GET of `path` over `requests` GETs."""
    get = client.get  # type: ignore[attr-defined]
    started = time.process_time()
    for _ in range(requests):
        response = get(path)
        assert response.status_code == 200, (path, response.status_code)
    return (time.process_time() - started) * 1000 / requests


def main() -> None:
    """Print the CPU per request of each page and its ratio to the static file's."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default="", help="PostgreSQL instead of a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        upgrade_database(url)
        app = create_app(
            {
                "DATABASE_URL": url,
                "INSTANCE_DIR": Path(tmp),
                "INDEX_DIR": Path(tmp) / "index",
                "SECRET_KEY": "bench-" + "x" * 40,
                "RATELIMIT_ENABLED": False,
            }
        )
        client = app.test_client(use_cookies=False)  # a new visitor each time, as under wrk
        client.get("/healthz")
        for _label, path in PATHS:
            cpu_ms(client, path, 50)
        rounds = [[cpu_ms(client, path, args.requests) for _label, path in PATHS] for _ in range(args.rounds)]
        floor = median(r[0] for r in rounds)
        for column, (label, _path) in enumerate(PATHS):
            value = median(r[column] for r in rounds)
            ratios = sorted(r[0] / r[column] for r in rounds)
            print(
                f"{label:28} {value:6.3f} ms CPU/request  static/page {floor / value:5.0%} "
                f"(rounds {ratios[0]:.0%}-{ratios[-1]:.0%})"
            )
        app.extensions["helpdesk.search"].close()
        app.extensions["helpdesk.db"][0].dispose()


if __name__ == "__main__":
    main()
