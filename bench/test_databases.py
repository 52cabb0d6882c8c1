"""What a test's fresh PostgreSQL database costs: replaying every migration (the old way) vs a template copy.

Run: .venv/bin/python bench/test_databases.py [--rounds 7]
         --postgres postgresql://postgres@127.0.0.1:5432/helpdesk_bench
The database named must contain "bench": its `public` schema is DROPPED and rebuilt. The template and working copies
are made beside it by tests/databases.py (`<name>_tpl_<hash>`, `<name>_bench_c<n>`); the copies are dropped after.
Rounds interleave the two ways (load slows both of a pair alike); the baseline is opening a connection and running
`SELECT 1`, the least any per-test database costs. Prints the median of each, in seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from helpdesk.config import normalize_database_url  # noqa: E402
from helpdesk.orm import upgrade_database  # noqa: E402
from tests.databases import PostgresDatabases  # noqa: E402


def replay_migrations(url: str) -> None:
    """The old per-test reset: drop the schema, then run every migration."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade_database(url)


def first_query(url: str) -> None:
    """Open a connection and run one query (what every fresh database costs at least)."""
    with create_engine(url, poolclass=NullPool).connect() as connection:
        connection.execute(text("SELECT 1"))


def timed(step: Callable[[], object]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True, help="a database whose name contains 'bench'")
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    url = normalize_database_url(options.postgres)
    if "bench" not in url.rsplit("/", 1)[-1]:
        parser.error("the database name must contain 'bench' (its schema is dropped)")
    databases = PostgresDatabases(options.postgres, "bench")  # builds the template if the migrations changed
    figures: dict[str, list[float]] = {
        "baseline: connect + SELECT 1": [],
        "old: drop schema + migrations": [],
        "new: drop + CREATE DATABASE TEMPLATE": [],
    }
    try:
        for _ in range(options.rounds):
            figures["baseline: connect + SELECT 1"].append(timed(lambda: first_query(url)))
            figures["old: drop schema + migrations"].append(timed(lambda: replay_migrations(url)))
            figures["new: drop + CREATE DATABASE TEMPLATE"].append(timed(lambda: first_query(databases.fresh())))
    finally:
        databases.close()
    for name, values in figures.items():
        print(
            f"{name:38} median {statistics.median(values):7.3f} s  (min {min(values):.3f}, max {max(values):.3f},"
            f" {len(values)} rounds)"
        )


if __name__ == "__main__":
    main()
