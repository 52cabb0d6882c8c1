"""`helpdesk escalate --loop` as a real process: it sweeps every interval, survives failures, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from helpdesk.loops import run_every
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.submit import Submission
from tests.helpers import REPO
from tests.tickets.conftest import Org


def _wait_for(condition: Callable[[], bool], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout  # generous: a process start on a loaded CI machine takes seconds
    while not condition():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


@pytest.mark.slow  # a subprocess server or CLI
@pytest.mark.db
def test_the_loop_escalates_a_ticket_that_becomes_overdue_and_exits_cleanly_on_sigterm(
    session: Session, org: Org, submit: Callable[..., Submission], database_url: str, tmp_path: Path
) -> None:
    # Filed under the test's stopped clock (March 2026): for the process, which runs on the real clock, it is long
    # overdue. A second ticket filed while the loop runs is swept on a later pass, not only the first.
    first = submit(org["ana"], "login").ticket
    session.commit()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HELPDESK_INSTANCE_DIR": str(tmp_path / "instance"),
        "HELPDESK_INDEX_DIR": str(tmp_path / "index"),
    }
    log_path = tmp_path / "escalate.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "helpdesk", "escalate", "--loop", "--interval", "0.2"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    # Poll through a plain engine: the app's sessions begin IMMEDIATE on SQLite, and polling with the write lock
    # ten times a second could starve the sweep's own writes past busy_timeout on a loaded machine.
    reader = create_engine(database_url, poolclass=NullPool)
    try:

        def tier(ticket_id: int) -> str:
            with reader.connect() as connection:
                return str(connection.execute(select(Ticket.tier).where(Ticket.id == ticket_id)).scalar_one())

        first_id = first.id
        session.rollback()
        _wait_for(lambda: tier(first_id) == "compact_office", log_path)
        second = submit(org["ben"], "error").ticket
        session.commit()
        second_id = second.id
        session.rollback()
        _wait_for(lambda: tier(second_id) == "compact_office", log_path)
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0, log_path.read_text()
    finally:
        process.kill()
        process.wait()
        reader.dispose()
    output = log_path.read_text()
    assert output.count("escalated 1 overdue requests") == 2, output  # quiet passes print nothing


def test_a_failing_pass_is_reported_and_the_loop_goes_on(capsys: pytest.CaptureFixture[str]) -> None:
    stop, calls, errors = threading.Event(), [], []

    def one_pass() -> str | None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("database restarting")
        if len(calls) == 3:
            stop.set()
        return "swept" if len(calls) == 2 else None

    run_every(0.01, one_pass, on_error=lambda: errors.append(1), stop=stop)
    assert (len(calls), len(errors)) == (3, 1)
    assert capsys.readouterr().out == "swept\n"


def test_a_failed_pass_is_retried_soon_not_after_the_whole_interval() -> None:
    """The database blinked: the work the failed passes rolled back is done once it answers, not an hour later."""
    stop, calls = threading.Event(), []

    def one_pass() -> str | None:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise OSError("database restarting")
        stop.set()
        return None

    thread = threading.Thread(
        target=run_every, args=(3600, one_pass), kwargs={"on_error": lambda: None, "stop": stop}, daemon=True
    )
    thread.start()
    thread.join(60)  # far below the interval: only the retries' back-off (0.5 s, then 1 s) can explain a finish
    stop.set()
    assert len(calls) == 3 and not thread.is_alive()
