"""Article counters kept per worker for a second, so a new visitor's kept page opens no database transaction.

A change made through this worker drops its counters at the commit; one made through another worker or host shows
here within `MAX_AGE`. Only visitors with nothing of their own on the page (signed out, never voted) get kept
counters: a voter or a signed-in reader reads their own vote anyway, and the counters with it, so they always see
their vote counted, whichever worker serves the page after it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeVar, cast

from flask import Flask, current_app
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

from helpdesk.extensions import db
from helpdesk.kb.stats import CHANGED_SLUGS, Stats, get_stats, get_stats_many
from helpdesk.kb.voters import known_voter_key

#: The longest a change made through another worker or host stays unseen by new visitors here.
MAX_AGE = 1.0
SIZE = 1024
_EXTENSION = "helpdesk.kept_stats"
#: The key of every article's counters (the home page's "most helpful" list).
_ALL = ""
T = TypeVar("T")


class KeptStats:
    """Counters by article slug (and all of them under one key), each kept `max_age` seconds at most."""

    def __init__(self, max_age: float = MAX_AGE, size: int = SIZE, clock: Callable[[], float] = time.monotonic):
        self._kept: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()
        self._generation = 0
        self.max_age, self._size, self.clock = max_age, size, clock

    def get(self, key: str, load: Callable[[], T]) -> T:
        """Return the value kept under `key`, or load it (outside the lock) and keep it."""
        now = self.clock()
        found = self._kept.get(key)
        if found is not None and now - found[0] < self.max_age:
            return cast(T, found[1])
        generation = self._generation
        value = load()
        with self._lock:
            # A drop while we read may have been of a change our read did not see: keep nothing then.
            if generation == self._generation:
                if len(self._kept) >= self._size:
                    self._kept.clear()
                self._kept[key] = (now, value)
        return value

    def drop(self, slugs: Iterable[str]) -> None:
        """Forget these articles' counters and the all-articles ones (their counters changed)."""
        with self._lock:
            self._generation += 1
            for key in (*slugs, _ALL):
                self._kept.pop(key, None)


def init_app(app: Flask) -> None:
    """Give the app its kept counters, dropped whenever one of its sessions commits a change to them."""
    kept = app.extensions[_EXTENSION] = KeptStats()

    def after_commit(session: Session) -> None:
        changed = session.info.pop(CHANGED_SLUGS, None)
        if changed:
            kept.drop(changed)

    event.listen(app.extensions["helpdesk.db"][1], "after_commit", after_commit)


def _kept() -> KeptStats | None:
    """Return the app's kept counters when this reader may get them, else None (read the rows)."""
    if current_user.is_authenticated or known_voter_key() is not None:
        return None
    kept: KeptStats = current_app.extensions[_EXTENSION]
    return kept


# The request's session is asked for only when a read is due: a kept answer leaves the request without one, so it
# ends without a commit either.
def article_stats(slug: str) -> Stats:
    """Return the article's counters for the current reader (kept ones for a new visitor)."""
    kept = _kept()
    if kept is None:
        return get_stats(db.session, slug)
    return kept.get(slug, lambda: get_stats(db.session, slug))


def all_stats() -> dict[str, Stats]:
    """Return every article's counters that has a row, for the current reader (kept ones for a new visitor)."""
    kept = _kept()
    if kept is None:
        return get_stats_many(db.session)
    return kept.get(_ALL, lambda: get_stats_many(db.session))
