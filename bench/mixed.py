"""Shared by bench/load.py and bench/faults.py: a real `helpdesk serve --demo`, and a mixed load of N users."""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = [
    "errors-and-technical-support",
    "user-administration-and-system-access",
    "getting-help-with-this-help-desk",
    "icots-privacy-policy",
]
QUERIES = [
    "password reset",
    "locked out",
    "transfer request",
    "icots error",
    "printer",
    "reporting instructions",
    "how do I reset my password",
    "violation report",
    "case closure",
]
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def free_port() -> int:
    """Return a loopback port that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(tmp: Path, port: int, database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a bench server: private folders, the database, limits far above the load."""
    env = {
        **os.environ,
        "HELPDESK_INSTANCE_DIR": str(tmp / "instance"),
        "HELPDESK_INDEX_DIR": str(tmp / "index"),
        "HELPDESK_PORT": str(port),
        "HELPDESK_BASE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": database_url,
        "HELPDESK_VOTE_LIMIT_PER_ADDRESS": "1000000 per minute",
        "HELPDESK_VOTE_LIMIT_PER_VOTER": "1000000 per minute",
        "HELPDESK_NEW_VOTERS_PER_ADDRESS": "1000000 per hour",
        "HELPDESK_SEARCH_LIMIT_PER_ADDRESS": "1000000 per minute",
        "HELPDESK_SECRET_KEY": "bench-" + "x" * 40,
    }
    for key in ("MAIL_SERVER", "MAIL_PORT", "HELPDESK_REDIS_URL"):
        env.pop(key, None)
    env.update(extra or {})
    return env


def start_server(tmp: Path, env: dict[str, str], workers: int = 2) -> subprocess.Popen[bytes]:
    """Start `helpdesk serve --demo` and wait until /healthz answers 200."""
    port = env["HELPDESK_PORT"]
    process = subprocess.Popen(
        [sys.executable, "-m", "helpdesk", "serve", "--workers", str(workers), "--demo"],
        cwd=ROOT,
        env=env,
        stdout=(tmp / "server.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {(tmp / 'server.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)  # polling for the server to listen
    process.kill()
    raise SystemExit("server did not start within 180 s")


def reporter_token(env: dict[str, str]) -> str:
    """Create an API token for a demo probation officer (the mixed load's ticket filer), in this process."""
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in env.items() if k.startswith(("HELPDESK_", "DATABASE_URL"))})
    sys.path.insert(0, str(ROOT))
    try:
        from sqlalchemy import select

        from helpdesk import create_app
        from helpdesk.accounts.api_tokens import create_api_token
        from helpdesk.accounts.models import User
        from helpdesk.audit.services import Origin
        from helpdesk.extensions import db

        app = create_app()
        with app.app_context():
            user = db.session.scalars(
                select(User).where(User.role == "po", User.is_active.is_(True)).order_by(User.id)
            ).first()
            assert user is not None, "no demo probation officer"
            token = create_api_token(db.session, actor=user, name="bench", origin=Origin())[1]
            db.session.commit()
        app.extensions["helpdesk.db"][0].dispose()
        return token
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass
class Outcome:
    """What the users saw: latencies, statuses, and what the server accepted (for the lost-writes check)."""

    times: list[float] = field(default_factory=list)
    kinds: dict[str, list[float]] = field(default_factory=dict)  # request kind -> its latencies (the p95's makers)
    statuses: Counter[int] = field(default_factory=Counter)
    tickets: list[int] = field(default_factory=list)
    votes: dict[str, bool] = field(default_factory=dict)  # voter cookie -> last accepted vote (one article)
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    def by_kind(self) -> str:
        """Each request kind's count, p50 and p95 (which kinds make the overall p95)."""
        parts = []
        for kind, times in sorted(self.kinds.items()):
            ordered = sorted(times)
            p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
            parts.append(f"{kind} n={len(ordered)} p50 {statistics.median(ordered):.0f} p95 {p95:.0f}")
        return "; ".join(parts)

    def summary(self, seconds: float) -> str:
        five = sum(n for status, n in self.statuses.items() if status >= 500)
        return (
            f"{len(self.times) / seconds:6.0f} req/s  p50 {statistics.median(self.times):6.1f} ms  "
            f"p95 {self.percentile(0.95):6.1f} ms  p99 {self.percentile(0.99):6.1f} ms  5xx {five}"
        )


VOTED = "errors-and-technical-support"


def _user(port: int, token: str, out: Outcome, stop: threading.Event, seed: int) -> None:
    """One person: reads articles, searches, votes on one article, files a request now and then."""
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    cookies: dict[str, str] = {}
    csrf = ""

    def call(
        kind: str, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        nonlocal connection
        sent = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), **(headers or {})}
        data = None if body is None else json.dumps(body).encode()
        if data:
            sent["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()  # a killed worker drops its connections: the client reconnects
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            with out.lock:
                out.errors[type(exc).__name__] += 1
            return 0, b""
        elapsed = (time.perf_counter() - started) * 1000
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name] = rest.split(";", 1)[0]
        with out.lock:
            out.times.append(elapsed)
            out.kinds.setdefault(kind, []).append(elapsed)
            out.statuses[response.status] += 1
        return response.status, raw

    while not stop.is_set():
        roll = rng.random()
        if roll < 0.45 or not csrf:
            status, raw = call("article", "GET", f"/articles/{rng.choice(ARTICLES)}")
            found = _CSRF.search(raw.decode("utf-8", "replace")) if status == 200 else None
            csrf = found.group(1) if found else csrf
        elif roll < 0.75:
            kind, path = ("search page", "/search?q=") if rng.random() < 0.5 else ("API search", "/api/v1/search?q=")
            call(kind, "GET", path + rng.choice(QUERIES).replace(" ", "+"))
        elif roll < 0.92:
            helpful = rng.random() < 0.7
            status, _ = call(
                "vote", "POST", f"/api/v1/articles/{VOTED}/vote", {"helpful": helpful}, {"X-CSRFToken": csrf}
            )
            if status == 200 and "hd_voter" in cookies:
                with out.lock:
                    out.votes[cookies["hd_voter"]] = helpful
        else:
            status, raw = call(
                "ticket",
                "POST",
                "/api/v1/tickets",
                {"category": "login", "subject": f"Bench {seed}", "description": "Cannot sign in."},
                {"Authorization": f"Bearer {token}"},
            )
            if status in (200, 201):
                with out.lock:
                    out.tickets.append(int(json.loads(raw)["id"]))
    connection.close()


def run_mixed(port: int, token: str, users: int, seconds: float, *, during: object = None) -> Outcome:
    """Run `users` people for `seconds`; `during(stop)` (optional) runs meanwhile in this thread (fault injection)."""
    out, stop = Outcome(), threading.Event()
    threads = [threading.Thread(target=_user, args=(port, token, out, stop, n), daemon=True) for n in range(users)]
    for thread in threads:
        thread.start()
    if callable(during):
        during(stop)
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join(90)
    return out
