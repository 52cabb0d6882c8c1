"""The --serve half of bench/pages.py: a real `helpdesk serve` driven over HTTP by keep-alive connections."""

from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

STATIC = "/static/css/app.css"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(source: Path, tmp: Path, port: int, database_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HELPDESK_INSTANCE_DIR": str(tmp / "instance"),
        "HELPDESK_INDEX_DIR": str(tmp / "index"),
        "HELPDESK_PORT": str(port),
        "HELPDESK_BASE_URL": f"http://127.0.0.1:{port}",
        "HELPDESK_VOTE_LIMIT_PER_ADDRESS": "100000 per minute",
        "HELPDESK_SEARCH_LIMIT_PER_ADDRESS": "1000000 per minute",
    }
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    process = subprocess.Popen(
        [sys.executable, "-m", "helpdesk", "serve", "--workers", "2"],
        cwd=source,
        env=env,
        stdout=(tmp / "server.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"server did not start: {(tmp / 'server.log').read_text()}")


def drive(port: int, path: str, seconds: float, connections: int) -> tuple[float, float, int]:
    """Return (requests per second, p50 ms, non-200 answers) of `connections` keep-alive loops on `path`."""
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def loop() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.monotonic() < end:
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            bad += response.status != 200
        connection.close()
        with lock:
            times.extend(mine)
            errors[0] += bad

    started = time.monotonic()
    threads = [threading.Thread(target=loop) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return len(times) / elapsed, statistics.median(times), errors[0]


def run_served(
    pages: list[tuple[str, str]], *, database_url: str, seconds: float, connections: int, source: Path
) -> None:
    """Print requests per second and p50 of each page, as a share of the static file's in the same run."""
    with tempfile.TemporaryDirectory() as name:
        tmp, port = Path(name), _free_port()
        process = _start(source, tmp, port, database_url)
        try:
            for _, path in [("warm-up", STATIC), *pages]:
                drive(port, path, 1.0, 2)
            floor, floor_p50, _ = drive(port, STATIC, seconds, connections)
            print(f"{'static file (the floor)':32} {floor:8.0f} req/s  p50 {floor_p50:6.2f} ms")
            for label, path in pages:
                rps, p50, bad = drive(port, path, seconds, connections)
                print(
                    f"{label:32} {rps:8.0f} req/s  p50 {p50:6.2f} ms  ({rps / floor:4.0%} of the floor)"
                    + (f"  {bad} non-200" if bad else "")
                )
        finally:
            process.terminate()
            process.wait(30)
