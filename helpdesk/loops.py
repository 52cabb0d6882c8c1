"""Background loops of the CLI (`mail deliver --loop`, `escalate --loop`): stop cleanly between passes on a signal."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

#: Seconds before the first retry of a failed pass.
FIRST_RETRY = 0.5


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set `stop` on SIGTERM/SIGINT instead of dying, so the pass under way records its outcomes."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return
    previous = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}

    def handle(_number: int, _frame: Any) -> None:
        stop.set()

    for number in previous:
        signal.signal(number, handle)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_every(
    interval: float,
    one_pass: Callable[[], str | None],
    *,
    on_error: Callable[[], None],
    stop: threading.Event | None = None,
) -> None:
    """Run `one_pass` every `interval` seconds until SIGTERM/SIGINT, echoing what it returns.

    A failing pass (the database restarting, say) is reported through `on_error` and the loop goes on: the next
    try comes sooner (FIRST_RETRY seconds, doubling up to `interval`), so that the work the failed pass rolled
    back is done as soon as the database answers again.
    """
    stop = stop or threading.Event()
    retry = FIRST_RETRY
    with stop_on_signals(stop):
        while not stop.is_set():
            try:
                summary = one_pass()
            except Exception:
                on_error()
                stop.wait(min(retry, interval))
                retry *= 2
                continue
            retry = FIRST_RETRY
            if summary:
                click.echo(summary)
            stop.wait(interval)
