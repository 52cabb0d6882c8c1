"""The search log's searches (search page, API), written in batches by a background thread: one write transaction a
second per worker, not one per search (on SQLite each GET's own write took the one write lock all workers share)."""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import threading
import time
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from helpdesk.insights.rollup import reroll
from helpdesk.orm import utcnow
from helpdesk.search.models import QUERY_MAX, SearchQuery
from helpdesk.search.services import find_search, log_click

log = logging.getLogger(__name__)

#: Rows kept while the database cannot take them (it is down); past that the oldest are dropped, logged.
PENDING_MAX = 50_000
#: How long a hit opened from another worker's results page waits for that page's search, beyond two intervals.
CLICK_WAIT_SECONDS = 10.0


class SearchLogWriter:
    """Queues search-log rows in memory and writes them every `interval` seconds, and at a normal exit.

    A row is stamped when the search is made, so reports place it where it belongs; a row written after its day
    was rolled up re-counts that day (as a late click does). With `interval` 0 (`buffered` false) the callers log
    in their request's transaction instead.
    """

    def __init__(self, engine: Engine, interval: float) -> None:
        self.engine = engine
        self.interval = interval
        self._pending: list[dict[str, Any]] = []
        #: Hits opened from a results page whose search is still in another worker's queue: (since, click).
        self._clicks: list[tuple[float, dict[str, Any]]] = []
        self._lock = threading.Lock()  # guards the two queues
        self._writing = threading.Lock()  # one write at a time: the thread's, or the one at exit
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    @property
    def buffered(self) -> bool:
        """Tell whether searches go through this writer (else the request writes its row)."""
        return self.interval > 0

    def add(self, query: str, *, hits: int, source: str, person: str | None, at: dt.datetime | None = None) -> None:
        """Queue one search (normalised query), made now or `at`, for the next write."""
        stamp = at or utcnow()
        row = {"query": query[:QUERY_MAX], "hits": hits, "source": source, "person": person, "created_at": stamp}
        with self._lock:
            self._pending.append(row)
            if len(self._pending) > PENDING_MAX:
                del self._pending[: len(self._pending) - PENDING_MAX]
                log.warning("search log: the database took no rows for a while; the oldest queued ones are dropped")
            self._ensure_thread()

    def add_click(
        self, *, person: str, at: dt.datetime, article_slug: str, question_id: str | None, rank: int | None
    ) -> None:
        """Queue a hit opened from the search `person` made `at`, not written yet: it is written once that is."""
        age = (utcnow() - at).total_seconds()
        if not -1 <= age <= 2 * self.interval + CLICK_WAIT_SECONDS:
            return  # a search that old was written long ago (so it is not this person's), or never will be
        click = {"article_slug": article_slug, "question_id": question_id, "rank": rank}
        with self._lock:
            self._clicks.append((time.monotonic(), {"person": person, "at": at, **click}))
            del self._clicks[: max(0, len(self._clicks) - PENDING_MAX)]
            self._ensure_thread()

    def pending(self) -> int:
        """Return the number of rows (searches and clicks) not written yet."""
        with self._lock:
            return len(self._pending) + len(self._clicks)

    def flush(self) -> int:
        """Write every queued search (and the clicks whose search is there) in one transaction; return the number
        of searches. On failure they stay queued."""
        with self._writing:
            with self._lock:
                rows, self._pending = self._pending, []
                clicks, self._clicks = self._clicks, []
            if not rows and not clicks:
                return 0
            try:
                waiting = self._write(rows, clicks)
            except Exception:
                log.exception("search log: could not write %d searches; trying again later", len(rows))
                waiting = clicks
                with self._lock:
                    self._pending[:0] = rows
                rows = []
            with self._lock:
                self._clicks[:0] = waiting
            return len(rows)

    def close(self) -> None:
        """Stop the thread and write what is queued (normal shutdown: gunicorn's worker exit runs it via atexit)."""
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(30)
        self.flush()
        self._pid = 0  # a later row starts the thread again
        atexit.unregister(self.close)

    def _ensure_thread(self) -> None:
        if self._pid != os.getpid():  # first row in this process (a worker forked after the app was made)
            self._start()

    def _start(self) -> None:
        self._pid = os.getpid()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="search-log-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)  # a worker's normal exit (SIGTERM, SIGINT, sys.exit) writes the rest

    def _loop(self) -> None:
        while not self._wake.wait(self.interval):
            self.flush()

    def _write(self, rows: list[dict[str, Any]], clicks: list[tuple[float, dict[str, Any]]]) -> list[Any]:
        """Write the searches, then the clicks whose search is written; return the clicks still waiting."""
        today = utcnow().date()
        late = {(day, row["query"]) for row in rows if (day := row["created_at"].date()) < today}
        waiting = []
        with Session(self.engine) as session:
            if rows:
                session.execute(insert(SearchQuery), rows)
            for day, query in sorted(late):  # searched before midnight, written after its day was rolled up
                reroll(session, day, query)
            for since, click in clicks:
                opened = dict(click)
                search = find_search(session, person=opened.pop("person"), at=opened.pop("at"))
                if search is not None:
                    log_click(session, search, **opened)
                elif time.monotonic() - since < 2 * self.interval + CLICK_WAIT_SECONDS:
                    waiting.append((since, click))
                else:  # another person's link, or a worker killed before its batch: no search to count it for
                    log.info("search log: an opened hit's search never came; the click is not recorded")
            session.commit()
        return waiting
