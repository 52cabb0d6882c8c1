"""The floor of the escalation sweep's writes: bare SQL with no secondary ticket index, and what each index adds.

Run: .venv/bin/python bench/sweep_floor.py [--tickets 100000] [--postgres postgresql://.../x_bench] [--repeat 1]
         [--rows]
Builds the data of bench/tickets.py, then takes the CPU seconds of the database's work in bench/tickets.py's bare
sweep (one UPDATE of every overdue row, its history and audit rows by INSERT ... SELECT) in transactions that are
rolled back, DROP INDEX included: with every index of the ticket table, with none but the primary key and the
unique key, and with those and one index. The expression index ix_ticket_open_response is not reflected: always kept.
--rows instead splits the bare sweep by statement (the ticket UPDATE, the history INSERT, the audit INSERT), with
all indexes, then each history or audit index dropped, the foreign keys of the history row dropped (PostgreSQL),
and the reason (written three times: ticket.route_reason, ticket_event.reason, audit_event.detail) 10 or 300
characters long instead of about 70.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import Connection, Engine, inspect, text  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402
from ticket_data import NOW, build_org, bulk_insert  # noqa: E402

from helpdesk import create_app  # noqa: E402
from helpdesk.extensions import db  # noqa: E402
from helpdesk.orm import upgrade_database  # noqa: E402
from tickets import BARE_SWEEP, reset_postgres, vacuum  # noqa: E402


def cpu_seconds(connection: Connection) -> float:
    """Return the CPU time of the database's work so far: this thread's on SQLite, the server process's on PostgreSQL.

    The machine is shared and loaded: wall time counts the waits for a core, CPU time does not.
    """
    if connection.dialect.name == "sqlite":
        return time.thread_time()
    pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _values(connection: Connection) -> dict[str, dt.datetime]:
    """The bare sweep's parameters: now and the next tier's due times (naive on SQLite, as the app stores them)."""
    now = NOW.replace(tzinfo=None) if connection.dialect.name == "sqlite" else NOW
    return {"now": now, "first_due": now + dt.timedelta(hours=8), "resolution_due": now + dt.timedelta(days=2)}


def _bare(connection: Connection, keep: set[str] | None, indexes: list[str]) -> float:
    """Time the bare sweep with only `keep` of the ticket's secondary indexes (None: all); roll everything back."""
    values = _values(connection)
    transaction = connection.begin()
    try:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA cache_size = -65536")
        for name in indexes if keep is not None else []:
            if name not in keep:
                connection.execute(text(f"DROP INDEX {name}"))
        started = cpu_seconds(connection)
        for statement in BARE_SWEEP:
            connection.execute(text(statement), values)
        return cpu_seconds(connection) - started
    finally:
        transaction.rollback()


#: The reason of the bare sweep (about 70 characters), and shorter and longer ones in its place.
_REASON = "'no first response within the tier-1 target of 4 business hours (' || id || ' elapsed)'"
_REASONS = {"reason 10 chars": "'late ' || id", "reason 300 chars": f"{_REASON} || '{'x' * 230}'"}
#: What each variant drops inside its rolled-back transaction.
_DROPS = {
    "- ix_ticket_event_ticket_created": ["DROP INDEX ix_ticket_event_ticket_created"],
    "- ix_audit_event_action": ["DROP INDEX ix_audit_event_action"],
    "- ix_audit_event_state_created": ["DROP INDEX ix_audit_event_state_created"],
    "- both audit indexes": ["DROP INDEX ix_audit_event_action", "DROP INDEX ix_audit_event_state_created"],
}
_FOREIGN_KEYS = [
    "ALTER TABLE ticket_event DROP CONSTRAINT fk_ticket_event_ticket_id_ticket",
    "ALTER TABLE ticket_event DROP CONSTRAINT fk_ticket_event_actor_id_user_account",
]


def _by_statement(connection: Connection, drops: list[str], reason: str) -> list[float]:
    """Time each statement of the bare sweep after `drops`, with `reason` as the SQL of the reason; roll back."""
    values = _values(connection)
    transaction = connection.begin()
    try:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA cache_size = -65536")
        for statement in drops:
            connection.execute(text(statement))
        spent = []
        for statement in BARE_SWEEP:
            started = cpu_seconds(connection)
            connection.execute(text(statement.replace(_REASON, reason)), values)
            spent.append(cpu_seconds(connection) - started)
        return spent
    finally:
        transaction.rollback()


def rows(engine: Engine, repeat: int) -> None:
    """Print the bare sweep's CPU per statement, and what each history and audit index and the reason's length add."""
    variants: dict[str, tuple[list[str], str]] = {"all indexes": ([], _REASON)}
    variants.update({name: (drops, _REASON) for name, drops in _DROPS.items()})
    if engine.dialect.name == "postgresql":
        variants["- history foreign keys"] = (_FOREIGN_KEYS, _REASON)
    variants.update({name: ([], reason) for name, reason in _REASONS.items()})
    samples: dict[str, list[list[float]]] = {name: [] for name in variants}
    for _ in range(repeat):  # interleaved: a busy spell of the machine spreads over every variant
        for name, (drops, reason) in variants.items():
            with engine.connect() as connection:
                samples[name].append(_by_statement(connection, drops, reason))
            vacuum(engine)
    print(f"\n== {engine.dialect.name}: bare sweep by statement, CPU seconds (median of {repeat}) ==")
    print(f"  {'':34} {'UPDATE':>7} {'history':>8} {'audit':>7} {'total':>7}")
    for name, runs in samples.items():
        update, history, audit = (statistics.median(column) for column in zip(*runs, strict=True))
        print(f"  {name:34} {update:7.2f} {history:8.2f} {audit:7.2f} {update + history + audit:7.2f}")


def floor(engine: Engine, repeat: int) -> None:
    """Print the bare sweep's time with all indexes, none, and each one alone."""
    indexes = sorted(
        index["name"]
        for index in inspect(engine).get_indexes("ticket")
        if index["name"] and not index.get("duplicates_constraint")
    )

    def timed(keep: set[str] | None) -> float:
        samples = []
        for _ in range(repeat):
            with engine.connect() as connection:
                samples.append(_bare(connection, keep, indexes))
            vacuum(engine)
        return statistics.median(samples)

    everything, bare_table = timed(None), timed(set())
    print(f"\n== {engine.dialect.name}: {len(indexes)} secondary ticket indexes (unique constraints kept) ==")
    print(f"  all indexes {everything:6.2f} s   primary key only {bare_table:6.2f} s")
    for name in indexes:
        alone = timed({name})
        print(f"  + {name:36} {alone:6.2f} s  ({alone - bare_table:+5.2f} s)")


def build(url: str, tickets: int, repeat: int, by_row: bool = False) -> None:
    """Build the bench data on one database and print its floor."""
    with tempfile.TemporaryDirectory() as tmp:
        upgrade_database(url)
        app = create_app(
            {"DATABASE_URL": url, "INSTANCE_DIR": Path(tmp), "INDEX_DIR": Path(tmp) / "index", "SECRET_KEY": "x"}
        )
        with app.app_context():
            engine: Any = db.engine
            sessions = sessionmaker(engine, expire_on_commit=False)
            with sessions() as session:
                org = build_org(session)
            bulk_insert(sessions, org, tickets)
            vacuum(engine)
            (rows if by_row else floor)(engine, repeat)
        app.extensions["helpdesk.db"][0].dispose()


def main() -> None:
    """SQLite, then PostgreSQL when given."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--postgres")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--rows", action="store_true", help="by statement: history and audit indexes, reason length")
    args = parser.parse_args()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            build(f"sqlite:///{tmp}/floor.sqlite3", args.tickets, args.repeat, args.rows)
    if args.postgres:
        build(reset_postgres(args.postgres), args.tickets, args.repeat, args.rows)


if __name__ == "__main__":
    main()
