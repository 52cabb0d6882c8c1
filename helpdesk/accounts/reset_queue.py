"""Reset requests handled after the answer, so that "What was my password again?" costs the same for any address.

The page only hands the address over; a thread of the worker process then looks the account up, and mails the
link or does nothing. Whether there is an account, a throttled one or none, the answer leaves equally fast. A
request still queued when the process stops is lost (after a few seconds' grace): the page tells people what to
do when no mail comes, and asking again is harmless.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import queue
import threading
import time
import weakref
from dataclasses import dataclass

from flask import Flask

from helpdesk.audit.services import Origin

logger = logging.getLogger(__name__)
EXTENSION_KEY = "helpdesk.reset_queue"


@dataclass(frozen=True, slots=True)
class _Request:
    email: str
    origin: Origin
    now: dt.datetime


#: A worker thread with nothing to do for this long ends; the next request starts another.
IDLE_SECONDS = 30.0
#: Every queue of this process, drained (for a few seconds) when the process exits.
_QUEUES: weakref.WeakSet[ResetQueue] = weakref.WeakSet()


class ResetQueue:
    """A background thread per process working through the reset requests of one app."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._pid = -1
        self._running = False
        self._queue: queue.Queue[_Request] = queue.Queue()

    def submit(self, email: str, *, origin: Origin, now: dt.datetime) -> None:
        """Queue one request; it is handled (and committed) on the worker thread."""
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked worker: the parent's thread did not come along
                self._pid, self._queue, self._running = os.getpid(), queue.Queue(), False
            if not self._running:
                self._running = True
                threading.Thread(target=self._work, args=(self._queue,), name="reset-requests", daemon=True).start()
            self._queue.put(_Request(email, origin, now))

    def wait(self, timeout: float = 10.0) -> None:
        """Return once every queued request is handled; TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        work = self._queue
        with work.all_tasks_done:
            while work.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{work.unfinished_tasks} reset requests still queued")
                work.all_tasks_done.wait(left)

    def _work(self, work: queue.Queue[_Request]) -> None:
        from helpdesk.accounts.auth import request_password_reset
        from helpdesk.accounts.session import account_policy
        from helpdesk.extensions import db

        while True:
            try:
                item = work.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:  # submit() puts under the lock: nothing can slip in between
                    if work.empty():
                        self._running = False
                        return
                continue
            try:
                with self.app.app_context():
                    request_password_reset(
                        db.session, item.email, origin=item.origin, now=item.now, policy=account_policy()
                    )
                    db.session.commit()
            except Exception:  # the person sees the same page either way; the log tells the operator
                logger.exception("a password reset request failed")
            finally:
                work.task_done()


@atexit.register
def _drain() -> None:
    for resets in list(_QUEUES):
        try:
            resets.wait(5.0)
        except TimeoutError:
            logger.warning("reset requests left unhandled at exit")


def init_app(app: Flask) -> None:
    """Give the app its queue of reset requests."""
    resets = ResetQueue(app)
    app.extensions[EXTENSION_KEY] = resets
    _QUEUES.add(resets)


def reset_queue(app: Flask) -> ResetQueue:
    """Return the app's reset queue."""
    resets: ResetQueue = app.extensions[EXTENSION_KEY]
    return resets
