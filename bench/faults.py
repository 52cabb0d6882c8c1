"""Benchmark: the mixed load on PostgreSQL while a worker is killed, the database goes away and Redis restarts.

Run: .venv/bin/python bench/faults.py --postgres postgresql://postgres@127.0.0.1:5432/NAME [--users 30]
The database is EMPTIED (public schema dropped). `helpdesk serve --workers 2 --demo` runs with its deliverer
sending to an aiosmtpd sink on loopback and its rate limits in a redis-server that this bench starts itself
(a free port, no persistence), so that it can kill and restart it. Faults, a few seconds apart:
1. SIGKILL of one gunicorn worker (the arbiter starts another);
2. the database "restart": connections to it are refused (ALLOW_CONNECTIONS false) and every connection of
   the app is ended with pg_terminate_backend, for --outage seconds, then allowed again (`pg_ctl restart` is not
   possible here without the data directory);
3. redis-server SIGKILLed, and started again on the same port --outage seconds later.
Prints: 5xx other than 503 (must be 0), lost requests and votes (accepted by the server, missing in the
database: 0), and mails not delivered within 60 s after the last recovery (0).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from load import reset_postgres  # noqa: E402
from mixed import VOTED, free_port, reporter_token, run_mixed, server_env, start_server  # noqa: E402

from tests.smtp_server import LoopbackSMTP  # noqa: E402


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def workers_of(server: int) -> list[int]:
    """Return the gunicorn worker pids of the server (its children that are not the background commands)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if parent == server and b"serve" in command:
            found.append(int(entry.name))
    return found


def start_redis(port: int) -> subprocess.Popen[bytes]:
    """Start a private redis-server without persistence and wait until it answers."""
    import redis

    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            return process
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # polling for the port to open


def database_outage(url: str, seconds: float) -> None:
    """Refuse new connections to the app's database and end every existing one, for `seconds`."""
    name = psycopg.conninfo.conninfo_to_dict(_plain(url))["dbname"]
    admin = psycopg.conninfo.make_conninfo(_plain(url), dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        try:
            connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            time.sleep(seconds)  # the length of the outage, not a wait for something
        finally:
            connection.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", required=True, help="the PostgreSQL database to use (it is emptied)")
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--outage", type=float, default=3.0, help="seconds the database and Redis stay away")
    parser.add_argument("--gap", type=float, default=8.0, help="seconds of load before and between the faults")
    args = parser.parse_args()
    url = reset_postgres(args.postgres)
    redis_port = free_port()
    redis_process = start_redis(redis_port)
    smtp = LoopbackSMTP().start()
    events: list[str] = []
    with tempfile.TemporaryDirectory() as name:
        tmp, port = Path(name), free_port()
        env = server_env(
            tmp,
            port,
            url,
            {
                "HELPDESK_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                "MAIL_SERVER": smtp.host,
                "MAIL_PORT": str(smtp.port),
            },
        )
        process = start_server(tmp, env)
        recovered = [time.monotonic()]
        try:
            token = reporter_token(env)
            with psycopg.connect(_plain(url)) as connection:
                before = connection.execute(
                    "SELECT count(*), count(*) FILTER (WHERE helpful) FROM vote WHERE article_slug = %s", (VOTED,)
                ).fetchone()

            def faults(stop: threading.Event) -> None:
                nonlocal redis_process
                stop.wait(args.gap)
                victim = workers_of(process.pid)[0]
                os.kill(victim, signal.SIGKILL)
                events.append(f"SIGKILL worker {victim}")
                stop.wait(args.gap)
                database_outage(url, args.outage)
                recovered[0] = time.monotonic()
                events.append(f"database away {args.outage:g} s (connections refused + pg_terminate_backend)")
                stop.wait(args.gap)
                redis_process.kill()
                redis_process.wait()
                stop.wait(args.outage)
                redis_process = start_redis(redis_port)
                recovered[0] = time.monotonic()
                events.append(f"redis-server killed, restarted {args.outage:g} s later")

            seconds = args.gap * 4 + args.outage * 2
            out = run_mixed(
                port,
                token,
                args.users,
                seconds,
                during=lambda stop: threading.Thread(target=faults, args=(stop,), daemon=True).start(),
            )
            loaded = time.monotonic()
            with psycopg.connect(_plain(url), autocommit=True) as connection:
                stored = {
                    row[0] for row in connection.execute("SELECT id FROM ticket WHERE id = ANY(%s)", (out.tickets,))
                }
                total, helpful = connection.execute(
                    "SELECT count(*), count(*) FILTER (WHERE helpful) FROM vote WHERE article_slug = %s", (VOTED,)
                ).fetchone() or (0, 0)
                deadline, pending = recovered[0] + 60, -1
                while True:  # mails: everything queued must be sent within 60 s of the last recovery
                    pending = connection.execute(
                        "SELECT count(*) FROM outbox_message WHERE status <> 'sent'"
                    ).fetchone()[0]
                    if pending == 0 or time.monotonic() > deadline:
                        break
                    time.sleep(0.5)  # polling the outbox
                sent = connection.execute("SELECT count(*) FROM outbox_message WHERE status = 'sent'").fetchone()[0]
        finally:
            process.terminate()
            process.wait(60)
            redis_process.kill()
            smtp.stop()
    five = {status: n for status, n in out.statuses.items() if status >= 500 and status != 503}
    lost_votes = max(0, before[0] + len(out.votes) - total)
    print("faults: " + "; ".join(events))
    print(f"mixed, {args.users} users, {seconds:g} s (2 shared cores, other jobs running): {out.summary(seconds)}")
    print(f"statuses {dict(sorted(out.statuses.items()))}; connections dropped (killed worker) {dict(out.errors) or 0}")
    print(f"5xx other than 503: {sum(five.values())} {five or ''}")
    print(f"lost requests: {len(set(out.tickets) - stored)} of {len(out.tickets)} accepted")
    print(
        f"lost votes: {lost_votes} of {len(out.votes)} voters accepted (database total {total}, helpful {helpful}, "
        f"accepted helpful {before[1] + sum(out.votes.values())})"
    )
    print(
        f"mails not delivered within 60 s after recovery: {pending} ({sent} sent, {len(smtp.received)} received "
        f"by the sink, load ended {loaded - recovered[0]:.0f} s after the last recovery)"
    )


if __name__ == "__main__":
    main()
