"""Ticket benchmark: submissions per second, queue queries and the escalation sweep at 100,000 tickets.

Run: .venv/bin/python bench/tickets.py [--tickets 100000] [--submissions 300]
         [--sweep-and-queues] [--postgres postgresql://postgres@127.0.0.1:5432/helpdesk_bench]
SQLite always runs (a temporary file); with --postgres the same steps run on that database too. Its `public`
schema is DROPPED and rebuilt, so the database name must contain "bench".
Each figure is printed beside a baseline measured in the same run on the same data: a bare INSERT of one
ticket row per transaction, a bare indexed SELECT of the queue's rows, and the sweep's writes in bare SQL (one
UPDATE of the same columns of the rows it escalates, their history and audit rows by INSERT ... SELECT; rolled
back); whole pages beside a static file (bench/ticket_web.py).
Targets: a queue page < 50 ms with 100,000 tickets in the database (the national "everything" queue by last
change and by first response too), a sweep of 100,000 overdue tier-1 tickets <= 5 s (issue 13).
Quicker iterations: --tickets 20000 --submissions 20.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from helpdesk import create_app  # noqa: E402
from helpdesk.accounts.models import User  # noqa: E402
from helpdesk.audit.services import Origin  # noqa: E402
from helpdesk.config import normalize_database_url  # noqa: E402
from helpdesk.extensions import db  # noqa: E402
from helpdesk.orm import upgrade_database  # noqa: E402
from helpdesk.tickets.context import EXTENSION_KEY, Triage  # noqa: E402
from helpdesk.tickets.escalation.scratch import roomy_cache  # noqa: E402
from helpdesk.tickets.escalation.sweep import BATCH, SQLITE_BATCH, escalate_overdue  # noqa: E402
from helpdesk.tickets.models import OPEN_STATUSES, Ticket  # noqa: E402
from helpdesk.tickets.queries import QUEUE_ORDERS, QueueFilter, list_queue, queue_counts, status_in  # noqa: E402
from helpdesk.tickets.submit import submit_ticket  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from ticket_data import NOW, build_org, bulk_insert, ticket_row  # noqa: E402
from ticket_web import bench_queue_pages, bench_web_submissions  # noqa: E402

ORIGIN = Origin(ip="127.0.0.1", user_agent="bench")


def ms(seconds: float) -> str:
    """Return seconds as milliseconds text."""
    return f"{seconds * 1000:8.2f} ms"


def median_time(run: Callable[[], object], repeat: int = 30) -> float:
    """Return the median wall time of `run` in seconds (after two warm-up runs)."""
    run(), run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def bench_submissions(
    sessions: sessionmaker[Session], triage: Triage, org: dict[str, Any], count: int, label: str
) -> None:
    """Print service submissions per second (one transaction each) against bare single-row INSERTs."""
    reporters = org["reporters"]
    categories = ("other", "access", "login", "error")
    started = time.perf_counter()
    for number in range(count):
        with sessions() as session, session.begin():
            reporter = session.get(User, reporters[number % len(reporters)])
            assert reporter is not None
            submit_ticket(
                session,
                triage,
                reporter=reporter,
                category=categories[number % len(categories)],
                subject=f"Bench request {number}",
                description="Bench.",
                idempotency_key=secrets.token_hex(16),
                origin=ORIGIN,
            )
    service = count / (time.perf_counter() - started)
    started = time.perf_counter()
    for number in range(count):
        with sessions() as session, session.begin():
            session.execute(insert(Ticket), [ticket_row(org, number, reporters[0], NOW)])
    bare = count / (time.perf_counter() - started)
    print(
        f"  submissions {label:28} {service:8.0f} /s   baseline bare INSERT {bare:8.0f} /s "
        f"({bare / service:.1f}x faster)"
    )


def bench_queues(app: Flask, org: dict[str, Any], phase: str) -> None:
    """Print queue page + counts times per role against a bare indexed SELECT of the same page."""
    agency_id, state = org["agencies"][0]
    with app.app_context():
        session = db.session
        local = session.get(User, org["local_it"][agency_id][0])
        compact = session.get(User, org["compact"][state][0])
        national = session.scalars(select(User).where(User.role == "national_admin")).first()
        assert local and compact and national
        cases = [
            (f"local IT queue (agency {agency_id})", local, QueueFilter(), "local_it", Ticket.agency_id == agency_id),
            (f"compact office queue ({state})", compact, QueueFilter(), "compact_office", Ticket.state_code == state),
            (
                "compact office, tier-1 filter",
                compact,
                QueueFilter(tier="local_it"),
                "local_it",
                Ticket.state_code == state,
            ),
            ("national, everything", national, QueueFilter(everything=True), None, None),
            ("national, everything, by last change", national, QueueFilter(everything=True), None, None, "updated"),
            ("national, everything, by response", national, QueueFilter(everything=True), None, None, "response"),
        ]
        for label, user, filters, tier, scope, *sorts in cases:
            sort = sorts[0] if sorts else "due"
            page = list_queue(session, user, filters, sort=sort)
            counts = queue_counts(session, user, filters)
            page_time = median_time(
                lambda u=user, f=filters, c=counts, s=sort: list_queue(session, u, f, counts=c, sort=s)
            )
            counts_time = median_time(lambda u=user, f=filters: queue_counts(session, u, f))
            conditions = [status_in(OPEN_STATUSES)]
            conditions += [c for c in (Ticket.tier == tier if tier else None, scope) if c is not None]
            order = [c.desc() if descending else c for c, descending in QUEUE_ORDERS[sort]]
            bare = select(Ticket.id).where(*conditions).order_by(*order).limit(25)
            bare_time = median_time(lambda q=bare: session.execute(q).all())
            session.rollback()
            print(
                f"  {phase} {label:38} total {page.total:6}  counts {ms(counts_time)} + page {ms(page_time)}"
                f" = {ms(counts_time + page_time)}   baseline SELECT {ms(bare_time)}"
            )


#: The bare-SQL twin of the sweep's writes: the same columns of the same rows, a history row and an audit row each.
BARE_SWEEP = [
    "UPDATE ticket SET tier = 'compact_office', assignee_id = NULL, escalated_at = :now, updated_at = :now, "
    "route_reason = 'no first response within the tier-1 target of 4 business hours (' || id || ' elapsed)', "
    "first_response_due = :first_due, resolution_due = :resolution_due, version = version + 1 "
    "WHERE status IN ('new', 'open') AND tier = 'local_it' AND first_response_due <= :now",
    "INSERT INTO ticket_event (ticket_id, actor_id, created_at, kind, public, body, reason) "
    "SELECT id, NULL, :now, 'escalated', true, NULL, route_reason FROM ticket WHERE escalated_at = :now",
    "INSERT INTO audit_event (created_at, action, outcome, actor_id, actor_email, target_type, target_id, state_code, "
    "ip, user_agent, detail) SELECT :now, 'ticket_escalated', 'success', NULL, 'system', 'ticket', "
    "CAST(id AS VARCHAR(20)), state_code, NULL, 'bench', route_reason FROM ticket WHERE escalated_at = :now",
]


def bench_sweep(sessions: sessionmaker[Session], triage: Triage, expected: int) -> None:
    """Print the time of one sweep over the overdue tickets against the same writes in bare SQL (rolled back)."""
    with sessions() as session:
        session.begin()
        now = _bind_now(session)
        sqlite = session.get_bind().dialect.name == "sqlite"
        values = {"now": now, "first_due": now + dt.timedelta(hours=8), "resolution_due": now + dt.timedelta(days=2)}
        started = time.perf_counter()
        with roomy_cache(session):  # the sweep's own page cache on SQLite: the same footing
            updated = session.execute(text(BARE_SWEEP[0]), values).rowcount
            for statement in BARE_SWEEP[1:]:
                session.execute(text(statement), values)
        bare = time.perf_counter() - started
        session.rollback()
    # The rolled-back UPDATE left a dead version of every row and its index entries on PostgreSQL: cleared, so that
    # the sweep starts from the state the baseline started from.
    vacuum(sessions.kw["bind"])
    started = time.perf_counter()
    escalated = escalate_overdue(sessions, triage, now=NOW)
    sweep = time.perf_counter() - started
    again = time.perf_counter()
    second = escalate_overdue(sessions, triage, now=NOW)
    idle = time.perf_counter() - again
    print(
        f"  sweep (batches of {SQLITE_BATCH if sqlite else BATCH}): escalated {escalated} (expected {expected}) "
        f"in {sweep:6.2f} s "
        f"({escalated / sweep:,.0f} tickets/s); baseline bare SQL (one UPDATE of {updated} rows, "
        f"two INSERT ... SELECT) {bare:6.2f} s; "
        f"second run escalated {second} in {ms(idle)}"
    )


def vacuum(engine: Any) -> None:
    """Vacuum and analyse the ticket table on PostgreSQL (SQLite rewrites rows in place: nothing to do)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE ticket"))


def _bind_now(session: Session) -> Any:
    # SQLite stores naive UTC text; PostgreSQL an aware timestamp.
    return NOW.replace(tzinfo=None) if session.get_bind().dialect.name == "sqlite" else NOW


def run(url: str, label: str, tickets: int, submissions: int, sweep_only: bool = False) -> None:
    """Run every step on one database (with `sweep_only`, the queue queries and the sweep only)."""
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
        )  # staff sign in with a password only: the bench measures pages
        triage: Triage = app.extensions[EXTENSION_KEY]
        with app.app_context():
            sessions = sessionmaker(db.engine, expire_on_commit=False)
            with sessions() as session:
                org = build_org(session)
            if not sweep_only:
                bench_submissions(sessions, triage, org, submissions, "(empty database)")
        if not sweep_only:
            bench_web_submissions(app, org, submissions, "(empty database)")
        with app.app_context():
            seconds = bulk_insert(sessions, org, tickets)
            print(f"  bulk insert of {tickets} open tier-1 tickets: {seconds:.1f} s")
            if not sweep_only:
                bench_submissions(sessions, triage, org, submissions, f"(at {tickets} tickets)")
        if not sweep_only:
            bench_web_submissions(app, org, submissions, f"(at {tickets} tickets)")
        bench_queues(app, org, "before sweep:")
        if not sweep_only:
            bench_queue_pages(app, org, "before sweep:")
        with app.app_context():
            bench_sweep(sessions, triage, tickets)
            vacuum(db.engine)  # what autovacuum does after 100,000 updated rows
        bench_queues(app, org, "after sweep: ")
        if not sweep_only:
            bench_queue_pages(app, org, "after sweep: ")
        app.extensions["helpdesk.db"][0].dispose()


def reset_postgres(url: str) -> str:
    """Drop and recreate the public schema of a database whose name contains 'bench'; return the URL."""
    url = normalize_database_url(url)
    if "bench" not in url.rsplit("/", 1)[-1]:
        raise SystemExit("refusing to wipe a PostgreSQL database whose name does not contain 'bench'")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def main() -> None:
    """Run the benchmark on SQLite, then on PostgreSQL when given."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--submissions", type=int, default=300)
    parser.add_argument(
        "--sweep-and-queues",
        action="store_true",
        help="only the queue queries and the sweep (no submissions, no web pages)",
    )
    parser.add_argument("--postgres", help="URL of a scratch PostgreSQL database (its name must contain 'bench')")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(
            f"sqlite:///{tmp}/bench.sqlite3",
            "SQLite (file, WAL)",
            args.tickets,
            args.submissions,
            args.sweep_and_queues,
        )
    if args.postgres:
        run(reset_postgres(args.postgres), "PostgreSQL", args.tickets, args.submissions, args.sweep_and_queues)


if __name__ == "__main__":
    main()
