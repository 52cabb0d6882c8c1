"""Run the app under a production WSGI server: gunicorn, or waitress where gunicorn cannot run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import click

from helpdesk.mail.delivery import redact_secrets
from helpdesk.request_limits import SERVER_REQUEST_LINE_LIMIT

if TYPE_CHECKING:
    from gunicorn.glogging import _AtomsDict  # the stubs' type of a log line's fields

#: The mail deliverer that `serve` runs beside the web server, in the same environment.
DELIVER_COMMAND = (sys.executable, "-m", "helpdesk", "mail", "deliver", "--loop")
#: The escalation sweep that `serve` runs every minute (cron may run `helpdesk escalate` too: sweeps are idempotent).
ESCALATE_COMMAND = (sys.executable, "-m", "helpdesk", "escalate", "--loop", "--interval", "60")
#: The learning pass over the search log (learned phrasings), every 10 minutes; passes are idempotent.
LEARN_COMMAND = (sys.executable, "-m", "helpdesk", "learn", "--loop", "--interval", "600")
#: The daily search-log sweep (HELPDESK_SEARCH_LOG_DAYS); sweeps are idempotent, so several hosts may run it.
SWEEP_COMMAND = (sys.executable, "-m", "helpdesk", "searchlog", "sweep", "--loop", "--interval", "86400")


def _gunicorn_available() -> bool:
    if os.name == "nt":  # gunicorn needs fork(): not on Windows
        return False
    try:
        import gunicorn.app.base  # noqa: F401
    except ImportError:
        return False
    return True


class BackgroundProcess:
    """A child process of `serve` (mail deliverer, escalation sweep): restarted if it dies, stopped with the server."""

    def __init__(
        self, command: Sequence[str], *, env: Mapping[str, str] | None = None, restart_delay: float = 5.0
    ) -> None:
        self.command = list(command)
        self.env = None if env is None else dict(env)
        self.restart_delay = restart_delay
        self.process: subprocess.Popen[bytes] | None = None
        # gunicorn forks its workers from this process, and they unwind through `run_server` when they exit:
        # only the process that started the child may stop it.
        self._owner = os.getpid()
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the child and a thread that restarts it when it dies."""
        self._spawn()
        threading.Thread(target=self._watch, name=f"watchdog-{self.command[-1]}", daemon=True).start()

    def stop(self, timeout: float = 15.0) -> None:
        """Ask the child to finish its pass and exit (SIGTERM); kill it after `timeout` seconds."""
        self.ask_to_stop()
        self.wait_stopped(timeout)

    def ask_to_stop(self) -> None:
        """Send the child SIGTERM and stop restarting it (only from the process that started it)."""
        if os.getpid() != self._owner:
            return
        self._stopping.set()
        with self._lock:
            process = self.process
        if process is not None and process.poll() is None:
            process.terminate()

    def wait_stopped(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for the child asked to stop to exit; then kill it."""
        process = self.process
        if os.getpid() != self._owner or process is None:
            return
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()  # a row it was sending comes back as pending once its claim is stale
            process.wait()

    def _spawn(self) -> None:
        with self._lock:
            if not self._stopping.is_set():
                self.process = subprocess.Popen(self.command, env=self.env)

    def _watch(self) -> None:
        while not self._stopping.wait(1.0):
            process = self.process
            if process is not None and process.poll() is not None:
                click.echo(
                    f"{' '.join(self.command[1:])} exited ({process.returncode}); "
                    f"restarting in {self.restart_delay:g} s",
                    err=True,
                )
                if self._stopping.wait(self.restart_delay):
                    return
                self._spawn()


def _exit_on_sigterm() -> None:
    # SIGTERM's default kills at once, skipping the `finally` that stops the children (gunicorn sets its own).
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda _number, _frame: sys.exit(0))


def run_server(host: str, port: int, workers: int, base_url: str) -> None:
    """Serve until interrupted; each worker builds its own app (no state shared across processes)."""
    click.echo(f"Helpdesk is running at http://{host}:{port}/  (links in e-mails use {base_url})")
    click.echo("Press Ctrl+C to stop.")
    children = [
        BackgroundProcess(command) for command in (DELIVER_COMMAND, ESCALATE_COMMAND, LEARN_COMMAND, SWEEP_COMMAND)
    ]
    for child in children:
        child.start()
    try:
        _exit_on_sigterm()
        if _gunicorn_available():
            _run_gunicorn(host, port, workers)
        else:
            _run_waitress(host, port, workers)
    finally:
        # All are asked at once and share one deadline: one after the other, a busy machine's shutdown took the sum
        # of their last passes, and a supervisor that gave up first left the rest running as orphans.
        for child in children:
            child.ask_to_stop()
        deadline = time.monotonic() + 15.0
        for child in children:
            child.wait_stopped(max(0.0, deadline - time.monotonic()))


def _worker_app() -> Any:
    """Build a worker's app and start warming its search index, so that its first users meet a warm cache."""
    from helpdesk import create_app

    app = create_app()
    with app.app_context():
        app.extensions["helpdesk.search"].warm_up(timeout=0)  # returns at once; warms in the background
    return app


#: The environ entries gunicorn's plain access-log atoms (h, u, r, m, U, q, H, f, a) read.
_ATOM_ENVIRON = (
    "REMOTE_ADDR",
    "REQUEST_METHOD",
    "RAW_URI",
    "SERVER_PROTOCOL",
    "PATH_INFO",
    "QUERY_STRING",
    "HTTP_REFERER",
    "HTTP_USER_AGENT",
    "HTTP_AUTHORIZATION",
)


#: Threads per gunicorn worker. The threads of a worker share one GIL: with 4, the holder of a contended database lock
#: (a report's turn in its category) waited behind 3 others for every step, and held it about twice as long as with 2
#: (bench/load.py's mixed load on PostgreSQL, 2 workers on 2 cores: ticket p50 ~110 ms with 2, ~170 ms with 4).
THREADS = 2


def _run_gunicorn(host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication
    from gunicorn.glogging import Logger

    class RedactingLogger(Logger):
        """Access log without the secret tokens of password links (/reset/<token>)."""

        def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> _AtomsDict:
            if "{" not in self.cfg.access_log_format:
                # The format names no header or environ variable ("{...}i/o/e"): gunicorn would still copy every
                # one of them into the atoms (half the line's cost); give it only what the plain atoms read.
                environ, req = {key: environ[key] for key in _ATOM_ENVIRON if key in environ}, ()
                resp = SimpleNamespace(status=resp.status, sent=getattr(resp, "sent", None), headers=())
            atoms = super().atoms(resp, req, environ, request_time)
            plain = cast(dict[str, Any], atoms)  # the same dict, its keys picked by a loop (a TypedDict wants literals)
            for key in ("r", "U", "q", "f"):
                if isinstance(plain.get(key), str):
                    plain[key] = redact_secrets(plain[key])
            return atoms

    class HelpdeskApplication(BaseApplication):
        """Gunicorn application that calls the app factory in every worker."""

        def __init__(self, options: dict[str, Any]) -> None:
            self.options = options
            super().__init__()

        def load_config(self) -> None:
            for key, value in self.options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return _worker_app()

    HelpdeskApplication(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": THREADS,
            "timeout": 60,
            # Above gunicorn's 4,094: the app answers long URLs itself (414, JSON under /api/).
            "limit_request_line": SERVER_REQUEST_LINE_LIMIT,
            "graceful_timeout": 10,
            "accesslog": "-",
            "logger_class": RedactingLogger,
            "errorlog": "-",
            "loglevel": "info",
        }
    ).run()


def _run_waitress(host: str, port: int, workers: int) -> None:
    from waitress import serve

    serve(_worker_app(), host=host, port=port, threads=max(4, workers * 4))
