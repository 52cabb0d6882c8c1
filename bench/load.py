"""Benchmark: `helpdesk serve --workers 2` under load, each page beside a static file's figures from the same run.

Run: .venv/bin/python bench/load.py [--postgres postgresql://...] [--seconds 4] [--rounds 5] [--connections 30]
     [--users 30]
SQLite first, then PostgreSQL when --postgres is given (that database is EMPTIED: its public schema is dropped).
Pages are driven by wrk (`apt-get install wrk`; 2 threads, --connections, --seconds), or by a bounded Python loop
of keep-alive connections where wrk is missing. For the article page, home, search page and API search it prints
requests/s and p50/p99, each as a ratio to the static file's (rps: higher is better; latency: lower is better).
The floor and the pages are measured in interleaved rounds (floor, page, page, ... then again): each round's ratio is
taken against that round's floor, so load from other jobs that comes and goes during a run shifts floor and page
alike; the verdict takes the lower of the rounds' median ratio and the ratio of the medians (both printed).
Then a mixed load of --users people (articles, searches, votes, requests filed) with p50/p95, overall and per kind
of request (--mixed-only: that load alone, after the warm-up).
Targets: article page and home >= 40 % of the floor's req/s, API search >= 30 %, mixed p95 <= 250 ms.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mixed import free_port, reporter_token, run_mixed, server_env, start_server  # noqa: E402
from served import STATIC, drive  # noqa: E402

PAGES = [
    ("article page (signed out)", "/articles/user-administration-and-system-access", 0.40),
    ("home", "/", 0.40),
    ("search page", "/search?q=password+reset", None),
    ("API search", "/api/v1/search?q=password+reset", 0.30),
]
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def measure(port: int, path: str, seconds: float, connections: int) -> tuple[float, float, float, int]:
    """Return (req/s, p50 ms, p99 ms, non-2xx) for `path`: wrk when installed, else the Python loop."""
    url = f"http://127.0.0.1:{port}{path}"
    if shutil.which("wrk"):
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
        p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        return rps, p50, p99, int(bad.group(1)) if bad else 0
    rps, p50, bad = drive(port, path, seconds, connections)
    return rps, p50, float("nan"), bad  # the Python loop keeps only the median


def reset_postgres(url: str) -> str:
    """Empty the PostgreSQL database (drop and recreate its public schema); return the URL the app takes."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as connection:
        connection.execute("DROP SCHEMA IF EXISTS public CASCADE")
        connection.execute("CREATE SCHEMA public")
    return url


def report_pages(label: str, rounds: list[list[tuple[float, float, float, int]]]) -> list[str]:
    """Print the floor and each page's figures and ratios over the interleaved rounds; return the missed targets."""
    missed: list[str] = []
    floor, floor50, floor99 = (median(r[0][i] for r in rounds) for i in range(3))
    print(
        f"{'static file (the floor)':28} {floor:7.0f} req/s  p50 {floor50:7.2f} ms  p99 {floor99:7.2f} ms"
        f"  (rounds {min(r[0][0] for r in rounds):.0f}-{max(r[0][0] for r in rounds):.0f} req/s)"
    )
    for column, (page, _path, target) in enumerate(PAGES, start=1):
        rps, p50, p99 = (median(r[column][i] for r in rounds) for i in range(3))
        ratios = sorted(r[column][0] / r[0][0] for r in rounds)
        # The lower of two estimates decides: the median of the rounds' ratios, and the ratio of the medians
        # (a server's periodic background work can make single rounds swing either way).
        ratio, bad = min(median(ratios), rps / floor), sum(r[column][3] for r in rounds)
        verdict = "" if target is None else ("  ok" if ratio >= target else f"  MISSED {target:.0%}")
        if verdict.startswith("  MISSED"):
            missed.append(f"{label} {page}")
        print(
            f"{page:28} {rps:7.0f} req/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  | ratio to the floor: "
            f"rps {ratio:5.0%} (rounds {ratios[0]:.0%}-{ratios[-1]:.0%}, median {median(ratios):.0%})  "
            f"p50 x{p50 / floor50:5.1f}  "
            f"p99 x{p99 / floor99:5.1f}{verdict}" + (f"  {bad} non-2xx" if bad else "")
        )
    return missed


def bench(label: str, database_url: str, args: argparse.Namespace) -> list[str]:
    """Run one database's figures; return the missed targets."""
    missed: list[str] = []
    with tempfile.TemporaryDirectory() as name:
        tmp, port = Path(name), free_port()
        env = server_env(tmp, port, database_url or f"sqlite:///{tmp / 'helpdesk.sqlite3'}")
        process = start_server(tmp, env)
        try:
            token = reporter_token(env)
            paths = [page[1] for page in PAGES]
            for path in [STATIC, *paths]:
                measure(port, path, 2, 4)  # warm-up: caches, index, connections
            print(
                f"\n== {label} ({'wrk' if shutil.which('wrk') else 'Python loop'}, {args.connections} "
                f"connections, {args.rounds} interleaved rounds of {args.seconds:g} s each)"
            )
            rounds = [
                [measure(port, path, args.seconds, args.connections) for path in [STATIC, *paths]]
                for _ in range(0 if args.mixed_only else args.rounds)
            ]
            if rounds:
                missed += report_pages(label, rounds)
            out = run_mixed(port, token, args.users, args.mixed_seconds)
            verdict = "ok" if out.percentile(0.95) <= 250 else "MISSED 250 ms"
            if verdict != "ok":
                missed.append(f"{label} mixed p95")
            print(f"{f'mixed, {args.users} users':28} {out.summary(args.mixed_seconds)}  {verdict}")
            print(f"{'':28} by kind (ms): {out.by_kind()}")
            print(
                f"{'':28} statuses {dict(sorted(out.statuses.items()))}  accepted: {len(out.tickets)} requests, "
                f"{len(out.votes)} voters"
            )
        finally:
            process.terminate()
            process.wait(60)
    return missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default="", help="also run on this PostgreSQL database (it is emptied)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each measurement")
    parser.add_argument("--skip-sqlite", action="store_true", help="only the PostgreSQL figures")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of floor + pages")
    parser.add_argument("--mixed-seconds", type=float, default=10.0, help="length of the mixed load")
    parser.add_argument("--mixed-only", action="store_true", help="only the mixed load (no page rounds)")
    parser.add_argument("--connections", type=int, default=30)
    parser.add_argument("--users", type=int, default=30)
    args = parser.parse_args()
    missed = [] if args.skip_sqlite else bench("SQLite", "", args)
    if args.postgres:
        missed += bench("PostgreSQL", reset_postgres(args.postgres), args)
    print("\nall targets met" if not missed else f"\nmissed: {', '.join(missed)}")


if __name__ == "__main__":
    main()
