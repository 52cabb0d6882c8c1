"""Where one escalation sweep spends its time: per statement, Python against the database, plans on PostgreSQL.

Run: .venv/bin/python bench/sweep_profile.py [--tickets 100000] [--postgres postgresql://.../x_bench] [--explain]
         [--python 30]
Builds the data of bench/tickets.py (SQLite in a temporary file; with --postgres that database, whose `public`
schema is DROPPED), runs one sweep and prints: wall and process CPU time, the time of each kind of statement
(on SQLite the library's own work, on PostgreSQL the round trip), and the rest, which is Python. --explain (PostgreSQL)
prints each write's plan with its trigger and index times (auto_explain, sent to the client as notices).
--python N runs the sweep under cProfile and prints its N functions of most own time (the profiler slows Python).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402
from ticket_data import NOW, build_org, bulk_insert  # noqa: E402

from helpdesk import create_app  # noqa: E402
from helpdesk.extensions import db  # noqa: E402
from helpdesk.orm import upgrade_database  # noqa: E402
from helpdesk.tickets.context import EXTENSION_KEY, Triage  # noqa: E402
from helpdesk.tickets.escalation.sweep import BATCH, escalate_overdue  # noqa: E402
from tickets import reset_postgres, vacuum  # noqa: E402


def _kind(statement: str) -> str:
    """Return a statement's first words, its parameters and literals folded, as the key it is summed under."""
    words = re.sub(r"\s+", " ", statement).strip()
    return re.sub(r"\d+", "N", words)[:90]


def profile(url: str, tickets: int, explain: bool, batch: int = BATCH, python: int = 0) -> None:
    """Build the data on one database, run one sweep, print where its time went."""
    with tempfile.TemporaryDirectory() as tmp:
        upgrade_database(url)
        app = create_app(
            {"DATABASE_URL": url, "INSTANCE_DIR": Path(tmp), "INDEX_DIR": Path(tmp) / "index", "SECRET_KEY": "x"}
        )
        triage: Triage = app.extensions[EXTENSION_KEY]
        with app.app_context():
            engine = db.engine
            sessions = sessionmaker(engine, expire_on_commit=False)
            with sessions() as session:
                org = build_org(session)
            bulk_insert(sessions, org, tickets)
            vacuum(engine)
            spent: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
            started_at: list[tuple[float, float]] = []
            postgres = engine.dialect.name == "postgresql"

            def database_cpu(connection: Any) -> float:
                # SQLite works in this thread; PostgreSQL in the connection's server process.
                if not postgres:
                    return time.thread_time()
                pid = connection.info.get("pid")
                if pid is None:
                    pid = connection.info["pid"] = connection.connection.dbapi_connection.info.backend_pid
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

            def before(connection: Any, *_args: Any) -> None:
                started_at.append((time.perf_counter(), database_cpu(connection)))

            def after(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
                entry = spent[_kind(statement)]
                wall, cpu = started_at.pop()
                entry[0] += time.perf_counter() - wall
                entry[1] += database_cpu(connection) - cpu
                entry[2] += 1

            event.listen(engine, "before_cursor_execute", before)
            event.listen(engine, "after_cursor_execute", after)
            notices: list[str] = []
            if explain and engine.dialect.name == "postgresql":

                @event.listens_for(engine, "connect")
                def _auto_explain(dbapi_connection: Any, _record: Any) -> None:
                    dbapi_connection.add_notice_handler(lambda notice: notices.append(notice.message_primary))
                    with dbapi_connection.cursor() as cursor:
                        cursor.execute(
                            "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 50; "
                            "SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on; "
                            "SET auto_explain.log_wal = on; SET auto_explain.log_triggers = on; "
                            "SET auto_explain.log_level = notice"
                        )
                    dbapi_connection.commit()

                engine.dispose()
            profiler = cProfile.Profile() if python else None
            wall, cpu = time.perf_counter(), time.thread_time()
            if profiler is not None:
                profiler.enable()
            escalated = escalate_overdue(sessions, triage, now=NOW, batch=batch)
            if profiler is not None:
                profiler.disable()
            wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
            in_db = sum(seconds for seconds, _, _ in spent.values())
            db_cpu = sum(cpu for _, cpu, _ in spent.values())
            python = cpu - (0.0 if postgres else db_cpu)
            print(f"\n== {engine.dialect.name}: escalated {escalated} in batches of {batch} ==")
            print(
                f"  wall {wall:6.2f} s (statements {in_db:6.2f} s)   CPU: database {db_cpu:6.2f} s, "
                f"Python {python:6.2f} s (this thread's CPU, less SQLite's own)"
            )
            print("  statement wall / database CPU / count")
            for statement, (seconds, used, count) in sorted(spent.items(), key=lambda item: -item[1][1])[:12]:
                print(f"  {seconds:7.3f} s {used:7.3f} s {count:5}x  {statement}")
            for notice in notices:
                print(notice)
            if profiler is not None:  # the Python functions that take the most time of their own
                pstats.Stats(profiler).sort_stats("tottime").print_stats(python)
                pstats.Stats(profiler).sort_stats("cumulative").print_stats("helpdesk|sqlalchemy/(orm|engine)/", python)
            with engine.connect() as connection:
                if engine.dialect.name == "postgresql":
                    sizes = connection.execute(
                        text(
                            "SELECT relname, pg_size_pretty(pg_relation_size(oid)) FROM pg_class "
                            "WHERE relname LIKE 'ix_ticket%' OR relname LIKE 'ticket%' ORDER BY relname"
                        )
                    ).all()
                    print("  " + ", ".join(f"{name} {size}" for name, size in sizes))
        app.extensions["helpdesk.db"][0].dispose()


def main() -> None:
    """Profile on SQLite, then on PostgreSQL when given."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--postgres")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--python", type=int, default=0, metavar="N", help="cProfile the sweep: N costliest functions")
    args = parser.parse_args()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            profile(f"sqlite:///{tmp}/profile.sqlite3", args.tickets, args.explain, args.batch, args.python)
    if args.postgres:
        profile(reset_postgres(args.postgres), args.tickets, args.explain, args.batch, args.python)


if __name__ == "__main__":
    main()
