"""Insights at scale: the two pages and the two API calls at 100,000 requests and 1,000,000 logged searches, each
beside a baseline query in the same run, and the search-log sweep of 1,000,000 searches; SQLite, then PostgreSQL.

Targets (issue 12): each page and API call under 300 ms; the sweep of 1,000,000 rows under 10 s.

Run: .venv/bin/python bench/insights.py [--tickets 100000] [--searches 1000000] [--postgres URL]
(--postgres: a scratch database whose public schema is DROPPED and recreated.)

Measured 2026-12-07 on the shared 2-core machine (load average 6-9 from other jobs), median of 3, 165,000 searches
and 16,500 requests in the 30-day window: SQLite / PostgreSQL, national administrator: content page 590 / 644 ms,
content API 426 / 532 ms, desk page 679 / 557 ms, desk API 90 / 27 ms; compact office (one state): content page
124 / 222 ms, content API 72 / 141 ms, desk page 100 / 199 ms, desk API 25 / 14 ms. Baseline COUNT(*) of the
window's searches 8.6 / 23.6 ms. Sweep of all 1,000,000 searches (+250,000 clicks): 27.5 / 32.0 s; a daily sweep
removes one day's searches (about 5,500 at this volume).

After the sweep by id range and the desk's one grouped read of its requests (04:00 UTC, load average 8.0):
national content page 469 / 587 ms, content API 433 / 464 ms, desk page 596 / 480 ms, desk API 82 / 32 ms; compact
office content page 94 / 222 ms, desk page 100 / 183 ms. Baseline COUNT(*) 4.4 / 18.5 ms. Sweep of all 1,000,000
searches 18.2 / 12.95 s, beside a bare DELETE of the same rows (rolled back) in the same run: 16.9 / 13.1 s. The
sweep is now within 10 % of the bare DELETE; the 10 s target is below what the bare DELETE takes on this machine.
National pages over a whole month of a million-search log still miss the 300 ms target: their cost is the two
GROUP BY query + COUNT(DISTINCT person) aggregates over the window (no_click about 270 ms on SQLite, top searches
about 215 ms); a daily rollup of the search log (day, query, kind: searches, last seen, most hits; distinct people
from a (query, kind, person, day) table) is the next step for them.

With the daily rollups (migration 0012: search_day, search_week_person, search_rollup; ix_search_query_report
dropped) and the dashboard's business times in integer microseconds, 06:00-06:15 UTC, load average 10-13 (five
helpers, and this helper's own test runs, on 2 cores; the baselines doubled: COUNT(*) 12.6-23.1 / 30.7 ms). The
rollup of 180 days (catch-up) took 18.7 / 89.1 s: 240,711 search_day rows, 595,141 search_week_person rows.
SQLite (kept file, `--keep F --sweep`) / PostgreSQL, national: content page 683-1286 / 589 ms, content API
374-631 / 685 ms, desk page 795-1635 / 783 ms, desk API 106-273 / 76 ms; compact office content page 309-382 / 561
ms, desk page 173-466 / 460 ms. Same process, same load, raw log vs rollups (/tmp script, median of 3): the two
national gap lists 1447 -> 592 ms, top searches 1082 -> 381 ms (SQLite). Sweep of all 1,000,000 searches and their
rollups: 49.2 / 21.7 s beside the bare DELETE of the searches and clicks 29.5 / 19.0 s, and of those plus the
rollup rows 36.7 / 21.4 s. At this load neither the 300 ms pages nor the 10 s sweep were shown; the rollups cut the
search-log part of the national pages by 2.5-3x; the desk page's remaining cost is its ticket reads (backlog by age
and the grouped breakdown, about 120 ms each here) and the business times of 16,500 requests in Python.

2026-12-07 11:40-12:01 UTC, load average 6-12, median of 5, each figure now wall / CPU time of the bench process
(SQLite: all the work; PostgreSQL: the client's only). Before = main at ed3c1d4 with this bench, on the same kept
databases (SQLite downgraded to 0012); after = migration 0014 (ix_ticket_report_created, covering the desk's reads of
a period's requests, replaces ix_ticket_created; ix_ticket_open_created, the backlog by age from a partial index of
open requests), business times reading each opening's clock once, the gap lists reading the handling of the groups
shown only. `--keep F` / `--postgres URL --keep-postgres`, then `--sweep` on a copy. SQLite before -> after:
national content page 430/194 -> 431/197 ms, content API 254/116 -> 222/115, desk page 664/325 -> 474/227, desk API
108/53 -> 46/20; compact office content page 179/92 -> 130/81, content API 157/73 -> 104/71, desk page 206/87 ->
114/76, desk API 57/20 -> 34/21; baseline COUNT(*) of the window's searches 8.2 -> 8.6 ms. PostgreSQL before ->
after: national content page 517/106 -> 328/77, content API 387/81 -> 230/58, desk page 613/78 -> 338/66, desk API
56/7 -> 23/6; compact office content page 548/44 -> 404/41, content API 353/35 -> 283/29, desk page 328/28 -> 253/30,
desk API 29/7 -> 16/6; baseline 30.1 -> 27.4 ms. Every page's CPU on SQLite (all of its work) is now under 300 ms
(national desk 325 -> 227); the walls above it are the load's. On PostgreSQL the national pages' server time is the
search-log people counts (search_week_person of the groups shown, 25,000 rows, about 100 ms here) and the no-click
list; the compact office's is the scope's raw searches, which PostgreSQL reads along ix_search_query_created (the
whole window, filtered by person) rather than along ix_search_query_person_created: a covering person index or
per-person rollups would be next.
Sweep, same runs: SQLite all 994,444 searches 22.6 s beside the bare DELETE 16.6 s (with the rollup rows 18.1 s; the
sweep commits per 50,000 ids, the baseline is one rolled-back transaction); PostgreSQL all 968,287 (six days swept
before) 15.6 s beside 14.4 / 14.5 s. The daily sweep (the oldest day's 5,556 searches, the cutoff cutting a day):
SQLite 0.475 -> 0.227 s beside 0.104 s; PostgreSQL 1.09 s (beside 0.33 s) -> 0.34-0.35 s beside 0.12 s, or
0.27-0.29 s with the rollup rows (/tmp script over `sweep_search_log`, two days each). What was slow: the last id
range spanned 50,000 ids for 5,556 searches; PostgreSQL found the id range by walking the primary key back through
every newer search (0.44 s), hashed every click in each roll-up query of the cut day (0.26 s each) and scanned the
week table for whole weeks to delete. The rest over the bare DELETE is the re-count of the day the cutoff cuts and
the commit.

2026-12-07 13:30-14:05 UTC, load average 5-12 (other helpers), migration 0016 (the clicks' foreign key dropped; on
PostgreSQL the person index covering (INCLUDE query, hits, source, id), the rollups' keys covering, autovacuum after
0.5 % new rows), the SQLite sweep with a 128 MB page cache, 200,000-id batches, and the person index dropped and
rebuilt when more than a quarter of the log goes. What the bare DELETE of 1,000,000 searches costs (rolled back,
interleaved): PostgreSQL 15.9-18.3 s with the foreign key, 1.30-1.33 s without (its check is one query of
search_click per deleted search; PostgreSQL's DELETE maintains no index); SQLite CPU 10.4-11.4 s with the person
index (whichever other index is dropped), 1.7 s without it, 1.0 s without any secondary index (the person index's
entries are deleted scattered over every person's range); the foreign key under 0.5 s. Sweep of all 994,444
searches, same run as its baseline: SQLite 8.56 s (CPU 4.04 s) beside the bare DELETE 21.8 s (CPU 11.6 s; 23.4 s
with the rollup rows); PostgreSQL 5.05 s beside 4.15 s (5.22 s with the rollup rows). Before, on copies of one
SQLite file, interleaved: 40.3 / 31.7 s (CPU 13.3 / 15.0) -> 11.9 s (CPU 6.2). Daily sweep 0.24 s beside 0.15 s on
both. Reads on PostgreSQL, main's code on 0015 then this on 0016, the same database, twice (`/tmp` script:
downgrade, VACUUM ANALYZE, bench, upgrade, VACUUM ANALYZE, bench): compact office content page 421 / 436 -> 139 /
271 ms, content API 336 / 408 -> 114 / 193, desk page 284 / 319 -> 104 / 197; national content page 335 / 535 -> 238
/ 482, desk page 502 / 493 -> 345 / 526 (the load rose in round 2: the client's CPU with it). EXPLAIN of the compact
office's raw reads: the date index walk of the whole window (3,460 pages, 165,000 entries filtered by person) -> the
covering person index (216 pages); national: the people of the shown groups 23,350 heap pages -> 0, the no-click
counts 21,704 -> 0.

2026-12-07 15:13-15:21 UTC, load average 8-12, `--repeat 5 --keep F` (SQLite), main's tree and this one run in turn
three times, twice: national content page CPU (median of the rounds) 254 -> 221 and 194 -> 169 ms, content API
150 -> 127 and 116 -> 109 ms. The people of the gap lists are counted from the distinct (group, person) pairs
(SQLite sorted the 26,000 rows of the no-click list twice for COUNT(DISTINCT) under GROUP BY: 30-40 % of that
statement), and the page renders the rows' shared form parts once (104 CSRF fields were rendered per national page).
What is left of the lists is the rollups' GROUP BY (a sort of the period's 23,000 no-click rollup rows, about 20 ms)
and the people's rows: one grouped read of both kinds was not faster (the same rows sorted together), and the
typo grouping (about 9 ms a list) needs every query read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import time_machine  # noqa: E402
from sqlalchemy import create_engine, delete, func, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402
from ticket_data import NOW, build_org, ticket_row  # noqa: E402
from ticket_web import signed_in  # noqa: E402

from helpdesk import create_app  # noqa: E402
from helpdesk.accounts.models import User  # noqa: E402
from helpdesk.config import normalize_database_url  # noqa: E402
from helpdesk.extensions import db  # noqa: E402
from helpdesk.insights.models import SearchDay, SearchRollup, SearchWeekPerson  # noqa: E402
from helpdesk.insights.retention import sweep_search_log  # noqa: E402
from helpdesk.insights.rollup import roll_up_search_log  # noqa: E402
from helpdesk.kb.models import Vote  # noqa: E402
from helpdesk.orm import upgrade_database  # noqa: E402
from helpdesk.search.learning import person_of  # noqa: E402
from helpdesk.search.models import SearchClick, SearchQuery  # noqa: E402
from helpdesk.tickets.models import Deflection, Ticket  # noqa: E402

DAYS = 180  # the data spans the default retention; the reports look at the last 30 days
WORDS = [
    "password",
    "reset",
    "login",
    "locked",
    "vpn",
    "slow",
    "screen",
    "error",
    "transfer",
    "report",
    "case",
    "offender",
    "printer",
    "fax",
    "email",
    "access",
    "account",
    "portal",
    "upload",
    "page",
    "timeout",
    "sync",
]
PROFILE = False
ARTICLES = [
    "errors-and-technical-support",
    "user-administration-and-system-access",
    "icots-privacy-policy",
    "getting-help-with-this-help-desk",
]


def ms(seconds: float) -> str:
    """Return seconds as milliseconds text."""
    return f"{seconds * 1000:8.1f} ms"


def median_time(run: Callable[[], object], repeat: int) -> float:
    """Return the median wall time of `run` (after one warm-up run)."""
    return median_times(run, repeat)[0]


def median_times(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Return the median wall time and the median CPU time of this process of `run` (after one warm-up run).

    On a loaded machine the CPU time is the steadier figure; on SQLite it includes the database's work, on
    PostgreSQL only the client's (the server's is in the query plans)."""
    run()
    walls, cpus = [], []
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def _vocabulary(rng: random.Random) -> list[str]:
    return sorted({" ".join(rng.sample(WORDS, rng.randint(1, 3))) for _ in range(3000)})


def fill(sessions: sessionmaker[Session], org: dict[str, Any], tickets: int, searches: int) -> None:
    """Insert the tickets, searches (a quarter opened), deflections and votes over the DAYS before NOW."""
    rng = random.Random(12)
    reporters, started = org["reporters"], time.perf_counter()
    categories, tiers = (
        ("login", "error", "slow", "access", "privacy", "other"),
        ("local_it", "compact_office", "national"),
    )
    for offset in range(0, tickets, 10_000):
        rows = []
        for n in range(offset, min(tickets, offset + 10_000)):
            created = NOW - dt.timedelta(minutes=rng.randint(10, DAYS * 1440))
            row = ticket_row(org, n, reporters[n % len(reporters)], created)
            row.update(
                category=categories[n % 6],
                tier=tiers[0 if n % 10 < 7 else (1 if n % 10 < 9 else 2)],
                suggestions_shown=f"{ARTICLES[n % 4]}#q{n % 7}" if n % 3 == 0 else "",
            )
            if n % 4 == 0:
                row.update(status="resolved", resolved_at=created + dt.timedelta(hours=rng.randint(2, 60)))
            rows.append(row)
        with sessions() as session, session.begin():
            session.execute(insert(Ticket), rows)
    print(f"  {tickets} tickets inserted in {time.perf_counter() - started:.1f} s")
    users = (
        [u for state in org["compact"].values() for u in state]
        + reporters
        + [u for ids in org["local_it"].values() for u in ids]
    )
    people = [person_of(f"u:{u}") for u in users] + [person_of(f"a:10.0.{i // 250}.{i % 250}") for i in range(400)]
    vocabulary = _vocabulary(rng)
    started = time.perf_counter()
    with sessions() as session:
        next_id = 1
        for offset in range(0, searches, 50_000):
            count = min(searches, offset + 50_000) - offset
            rows, clicks = [], []
            for _ in range(count):
                query = (
                    vocabulary[min(len(vocabulary) - 1, int(rng.paretovariate(1.1)) - 1)]
                    if rng.random() < 0.7
                    else rng.choice(vocabulary)
                )
                hits = 0 if rng.random() < 0.1 else rng.randint(1, 30)
                at = NOW - dt.timedelta(seconds=DAYS * 86_400 * (1 - (next_id - 0.5) / searches))  # in log order
                rows.append(
                    {
                        "id": next_id,
                        "query": query,
                        "hits": hits,
                        "source": "page",
                        "person": rng.choice(people),
                        "created_at": at,
                    }
                )
                if hits and rng.random() < 0.25:
                    clicks.append(
                        {
                            "search_id": next_id,
                            "article_slug": rng.choice(ARTICLES),
                            "question_id": None,
                            "rank": 1,
                            "created_at": at + dt.timedelta(seconds=5),
                        }
                    )
                next_id += 1
            with session.begin():
                session.execute(insert(SearchQuery), rows)
                session.execute(insert(SearchClick), clicks)
        with session.begin():
            session.execute(
                insert(Deflection),
                [
                    {
                        "user_id": rng.choice(reporters),
                        "category": categories[i % 6],
                        "article_slug": ARTICLES[i % 4],
                        "question_id": None,
                        "query": rng.choice(vocabulary),
                        "created_at": NOW - dt.timedelta(minutes=rng.randint(10, DAYS * 1440)),
                    }
                    for i in range(20_000)
                ],
            )
            session.execute(
                insert(Vote),
                [
                    {
                        "article_slug": ARTICLES[i % 4],
                        "voter_key": f"c:bench{i}",
                        "helpful": i % 3 != 0,
                        "reason": "missing steps" if i % 3 == 0 else None,
                        "created_at": NOW - dt.timedelta(days=i % 60),
                        "updated_at": NOW - dt.timedelta(days=i % 60),
                    }
                    for i in range(5_000)
                ],
            )
        with session.begin():
            session.execute(text("ANALYZE"))
    if sessions.kw["bind"].dialect.name == "postgresql":  # what autovacuum does after a million inserted rows
        with sessions.kw["bind"].connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    print(f"  {searches} searches (+ clicks, 20,000 deflections, 5,000 votes) in {time.perf_counter() - started:.1f} s")


def bench_reads(app: Any, repeat: int) -> None:
    """Time each page and API call per role beside a baseline COUNT over the same period and table."""
    with app.app_context():
        national = db.session.scalars(select(User.id).where(User.role == "national_admin")).one()
        compact, state = db.session.execute(
            select(User.id, User.state_code).where(User.role == "compact_office").order_by(User.id).limit(1)
        ).one()
        start = NOW - dt.timedelta(days=29)
        day0 = dt.datetime.combine(start.date(), dt.time(), tzinfo=dt.UTC)
        base_search = select(func.count()).select_from(SearchQuery).where(SearchQuery.created_at >= day0)
        base_ticket = select(func.count()).select_from(Ticket).where(Ticket.created_at >= day0)
        baseline_s = median_time(lambda: db.session.execute(base_search).scalar(), repeat)
        baseline_t = median_time(lambda: db.session.execute(base_ticket).scalar(), repeat)
        in_period = db.session.execute(base_search).scalar(), db.session.execute(base_ticket).scalar()
        db.session.rollback()
    print(
        f"  last 30 days: {in_period[0]} searches, {in_period[1]} requests;  baseline COUNT(*) of searches "
        f"{ms(baseline_s)}, of requests {ms(baseline_t)}"
    )
    for label, user in (("national", national), (f"compact office {state}", compact)):
        client = signed_in(app, user)
        for path in ("/insights/content", "/api/v1/reports/content-gaps", "/insights/desk", "/api/v1/reports/desk"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])
            took, cpu = median_times(lambda p=path, c=client: c.get(p), repeat)
            print(
                f"  {label:22} {path:32} {ms(took)}, CPU {ms(cpu)}   (baseline searches {ms(baseline_s)}, "
                f"requests {ms(baseline_t)})"
            )


def profile(app: Any) -> None:
    """Print where the national content and desk reports spend their time (--profile)."""
    import cProfile
    import pstats

    from helpdesk.insights.content import content_report
    from helpdesk.insights.desk import desk_report
    from helpdesk.insights.scope import Period, Scope
    from helpdesk.insights.views import business_calendar

    period = Period(NOW.date() - dt.timedelta(days=29), NOW.date())
    with app.test_request_context():
        profiler = cProfile.Profile()
        profiler.enable()
        content_report(db.session, Scope(), period, {})
        desk_report(db.session, Scope(), period, now=NOW, calendar=business_calendar)
        profiler.disable()
        db.session.rollback()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def run(
    url: str, label: str, tickets: int, searches: int, repeat: int, *, filled: bool = False, sweep: bool = True
) -> None:
    """Fill one database (unless `filled`), time the reads, then the sweep of every logged search."""
    print(f"\n== {label} ==")
    with tempfile.TemporaryDirectory() as tmp:
        upgrade_database(url)
        app = create_app(
            {
                "DATABASE_URL": url,
                "INSTANCE_DIR": Path(tmp),
                "INDEX_DIR": Path(tmp) / "index",
                "SECRET_KEY": "bench",
                "BASE_URL": "https://help.example.org",
                "RATELIMIT_ENABLED": False,
                "MFA_ROLES": (),
            }
        )
        if not filled:
            with app.app_context():
                sessions = sessionmaker(db.engine, expire_on_commit=False)
                with sessions() as session:
                    org = build_org(session)
                fill(sessions, org, tickets, searches)
        with app.app_context(), Session(db.engine) as session:
            started = time.perf_counter()
            days = roll_up_search_log(session, now=NOW)  # what the daily job (searchlog sweep) does
            if days and session.get_bind().dialect.name == "postgresql":
                # What autovacuum does after the rolled rows (migration 0016's thresholds): the visibility map the
                # reports' index-only scans read.
                session.commit()
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.execute(text("VACUUM ANALYZE search_day, search_week_person"))
            print(
                f"  rollup of {days} finished days (catch-up) in {time.perf_counter() - started:.2f} s; "
                f"rollup rows: {rollup_rows(session)}"
            )
        with time_machine.travel(NOW, tick=True):  # "the last 30 days" are the data's
            if PROFILE:
                profile(app)
            bench_reads(app, repeat)
        with app.app_context(), Session(db.engine) as session:
            if not sweep:  # a database kept for another run (--keep)
                return
            # The daily job: the oldest day's searches (24 hours of them); the cutoff (17:00) cuts a day in two.
            daily_now = NOW + dt.timedelta(days=1)
            daily_base = bare_delete(session, daily_now - dt.timedelta(days=DAYS), rollups=True)
            started, cpu = time.perf_counter(), time.process_time()
            daily = sweep_search_log(session, days=DAYS, now=daily_now)
            daily_took = time.perf_counter() - started, time.process_time() - cpu
            print(
                f"  daily sweep: {daily} searches (one day's) removed in {secs(daily_took, 3)}   (baseline: bare "
                f"DELETE of the same searches, clicks and rollup rows, rolled back, {secs(daily_base, 3)})"
            )
            total = session.scalar(select(func.count()).select_from(SearchQuery))
            baseline = bare_delete(session, NOW + dt.timedelta(days=1))
            with_rollups = bare_delete(session, NOW + dt.timedelta(days=1), rollups=True)
            started, cpu = time.perf_counter(), time.process_time()
            removed = sweep_search_log(session, days=DAYS, now=NOW + dt.timedelta(days=DAYS + 1))
            took = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"  sweep: {removed} of {total} searches (and their clicks and rollups) removed in {secs(took)}   "
            f"(baseline: bare DELETE of the same searches and clicks, rolled back, {secs(baseline)}; with the "
            f"rollup rows too {secs(with_rollups)})"
        )
        app.extensions["helpdesk.search"].close()
        app.extensions["helpdesk.db"][0].dispose()


def rollup_rows(session: Session) -> str:
    """Return the row counts of the two rollup tables."""
    return ", ".join(
        f"{table.__tablename__} {session.scalar(select(func.count()).select_from(table))}"
        for table in (SearchDay, SearchWeekPerson)
    )


def secs(took: tuple[float, float], digits: int = 2) -> str:
    """Return a (wall, CPU) pair of seconds as text."""
    return f"{took[0]:.{digits}f} s (CPU {took[1]:.{digits}f} s)"


def bare_delete(session: Session, cutoff: dt.datetime, *, rollups: bool = False) -> tuple[float, float]:
    """Return the wall and CPU time of plain DELETEs of every search before `cutoff` and its clicks (and rollups),
    rolled back."""
    started, cpu = time.perf_counter(), time.process_time()
    old = SearchQuery.created_at < cutoff
    session.execute(delete(SearchClick).where(SearchClick.search_id.in_(select(SearchQuery.id).where(old))))
    session.execute(delete(SearchQuery).where(old))
    if rollups:
        for table in (SearchDay, SearchRollup):
            session.execute(delete(table).where(table.day < cutoff.date()))
        session.execute(delete(SearchWeekPerson).where(SearchWeekPerson.week < cutoff.date()))
    took = time.perf_counter() - started, time.process_time() - cpu
    session.rollback()
    return took


def reset_postgres(url: str) -> str:
    """Drop and recreate the public schema of the scratch database; return the URL."""
    url = normalize_database_url(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def postgres_filled(url: str) -> bool:
    """Tell whether the scratch database holds a filled search log already (--keep-postgres)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        filled = bool(
            connection.scalar(text("SELECT to_regclass('public.search_query') IS NOT NULL"))
            and connection.scalar(text("SELECT EXISTS (SELECT 1 FROM search_query)"))
        )
    engine.dispose()
    return filled


def main() -> None:
    """Run on SQLite, then on PostgreSQL when given."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", help="URL of a scratch PostgreSQL database (its schema is dropped)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--keep", metavar="FILE", help="SQLite file kept between runs (filled once; no sweep)")
    parser.add_argument("--sweep", action="store_true", help="with --keep: sweep the kept file too (empties it)")
    parser.add_argument(
        "--keep-postgres",
        action="store_true",
        help="keep the PostgreSQL data between runs (filled once; no sweep without --sweep)",
    )
    parser.add_argument("--profile", action="store_true", help="profile one national report of each kind")
    args = parser.parse_args()
    global PROFILE
    PROFILE = args.profile
    if args.keep:
        path = Path(args.keep)
        run(
            f"sqlite:///{path}",
            "SQLite (kept file)",
            args.tickets,
            args.searches,
            args.repeat,
            filled=path.exists(),
            sweep=args.sweep,
        )
    elif not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{tmp}/bench.sqlite3", "SQLite (file, WAL)", args.tickets, args.searches, args.repeat)
    if args.postgres and args.keep_postgres:
        url = normalize_database_url(args.postgres)
        filled = postgres_filled(url)
        run(
            url if filled else reset_postgres(url),
            "PostgreSQL (kept)",
            args.tickets,
            args.searches,
            args.repeat,
            filled=filled,
            sweep=args.sweep,
        )
    elif args.postgres:
        run(reset_postgres(args.postgres), "PostgreSQL", args.tickets, args.searches, args.repeat)


if __name__ == "__main__":
    main()
