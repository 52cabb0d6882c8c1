"""`helpdesk mail deliver`, its --loop as a real process, and the deliverer that `serve` runs beside the server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from helpdesk.mail.models import OutboxMessage
from helpdesk.server import DELIVER_COMMAND, BackgroundProcess
from tests.helpers import REPO
from tests.smtp_server import LoopbackSMTP, free_port


@pytest.fixture
def process_env(database_url: str, tmp_path: Path, smtp: LoopbackSMTP) -> dict[str, str]:
    """The environment of a `helpdesk` process on this test's database, sending to `smtp`."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "HELPDESK_INSTANCE_DIR": str(tmp_path / "instance"),
        "HELPDESK_INDEX_DIR": str(tmp_path / "index"),
        "MAIL_SERVER": smtp.host,
        "MAIL_PORT": str(smtp.port),
    }


def test_deliver_sends_what_is_due_and_prints_a_summary(
    smtp_app: Flask, smtp: LoopbackSMTP, add_mail: Callable[..., int]
) -> None:
    add_mail(), add_mail()
    result = smtp_app.test_cli_runner().invoke(args=["mail", "deliver", "--batch", "1"])
    assert result.exit_code == 0, result.output
    assert "mail: sent 1, retrying 0, dead 0" in result.output  # one pass, one message: --batch 1
    assert len(smtp.wait_for(1)) == 1
    assert "mail: sent 1" in smtp_app.test_cli_runner().invoke(args=["mail", "deliver"]).output
    assert "mail: sent 0" in smtp_app.test_cli_runner().invoke(args=["mail", "deliver"]).output


def test_deliver_without_a_mail_server_writes_files_and_shows_links(app: Flask, add_mail: Callable[..., int]) -> None:
    add_mail(recipient="gina@example.org", body_text="Sign in: https://help.example.org/login/abc\n")
    result = app.test_cli_runner().invoke(args=["mail", "deliver"])
    assert result.exit_code == 0, result.output
    assert "gina@example.org" in result.stderr and "https://help.example.org/login/abc" in result.stderr
    assert len(list(Path(app.config["MAIL_DIR"]).glob("*.eml"))) == 1


@pytest.mark.slow  # a subprocess server or CLI
def test_deliver_loop_keeps_delivering_and_exits_cleanly_on_sigterm(
    app: Flask,
    smtp: LoopbackSMTP,
    add_mail: Callable[..., int],
    process_env: dict[str, str],
    rows: Callable[[], list[OutboxMessage]],
    tmp_path: Path,
) -> None:
    add_mail()
    with (tmp_path / "deliver.log").open("w") as log:
        process = subprocess.Popen(
            [*DELIVER_COMMAND, "--interval", "0.1"], cwd=REPO, env=process_env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        smtp.wait_for(1, timeout=90)
        add_mail()  # queued while the loop runs
        smtp.wait_for(2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0, (tmp_path / "deliver.log").read_text()
    finally:
        process.kill()
        process.wait()
    assert [row.status for row in rows()] == ["sent", "sent"]
    assert "mail: sent 1" in (tmp_path / "deliver.log").read_text()


@pytest.mark.slow  # a subprocess server or CLI
def test_background_deliverer_is_restarted_when_it_dies_and_stopped_with_the_server(
    app: Flask, smtp: LoopbackSMTP, add_mail: Callable[..., int], process_env: dict[str, str]
) -> None:
    deliverer = BackgroundProcess([*DELIVER_COMMAND, "--interval", "0.1"], env=process_env, restart_delay=0.1)
    deliverer.start()
    try:
        add_mail()
        smtp.wait_for(1, timeout=90)
        first = deliverer.process
        assert first is not None
        first.kill()
        deadline = time.monotonic() + 10
        while deliverer.process is first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert deliverer.process is not first
        add_mail()
        smtp.wait_for(2, timeout=90)
    finally:
        deliverer.stop()
    assert deliverer.process is not None and deliverer.process.returncode == 0  # SIGTERM: a clean exit
    time.sleep(1.2)  # longer than the watchdog's poll: it must not start another one
    assert deliverer.process.poll() == 0


def _children(pid: int) -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            if entry.name.isdigit() and int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
    return found


def _wait_until_healthy(url: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow  # a subprocess server or CLI
@pytest.mark.skipif(not Path("/proc/self/stat").exists() or sys.platform == "win32", reason="needs Linux /proc")
def test_serve_runs_the_deliverer_the_sweep_and_the_learner_and_stops_them_on_exit(  # and the search-log sweep
    app: Flask, smtp: LoopbackSMTP, add_mail: Callable[..., int], process_env: dict[str, str], tmp_path: Path
) -> None:
    add_mail()
    port = free_port()
    with (tmp_path / "serve.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "helpdesk", "serve", "--workers", "2", "--port", str(port)],
            cwd=REPO,
            env=process_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        smtp.wait_for(1, timeout=120)  # generous: a server starting on a busy machine
        _wait_until_healthy(f"http://127.0.0.1:{port}/healthz")
        children = _children(process.pid)
        [deliverer] = [pid for pid, command in children.items() if "mail deliver --loop" in command]
        [sweeper] = [pid for pid, command in children.items() if "escalate --loop --interval 60" in command]
        [learner] = [pid for pid, command in children.items() if "learn --loop --interval 600" in command]
        [log_sweep] = [pid for pid, command in children.items() if "searchlog sweep --loop" in command]
        workers = [pid for pid in children if pid not in (deliverer, sweeper, learner, log_sweep)]
        os.kill(workers[0], signal.SIGTERM)  # an exiting gunicorn worker unwinds through run_server too
        time.sleep(0.5)
        assert _alive(deliverer) and _alive(sweeper) and _alive(learner) and _alive(log_sweep)
    finally:
        process.terminate()
        try:
            process.wait(60)  # its children get 15 s together; generous for a busy machine
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert not any(map(_alive, (deliverer, sweeper, learner, log_sweep))), (tmp_path / "serve.log").read_text()
