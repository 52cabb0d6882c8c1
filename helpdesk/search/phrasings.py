"""The library search indexes: the articles with the phrasings learned from use, so that an article whose learned
phrasings change counts as changed (its digest changes) and the index's incremental update re-indexes it."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping

from helpdesk.kb.articles import Article
from helpdesk.kb.library import ArticleLibrary
from helpdesk.search.documents import split_key

log = logging.getLogger(__name__)

#: Learned phrasings by search document key (`slug#question-id`, or the slug of an article without questions).
Phrasings = Mapping[str, tuple[str, ...]]
Loader = Callable[[], Phrasings]
MIN_INTERVAL = 0.2  # even when articles are checked on every call (tests), one read of the phrasings at a time
FIRST_WAIT = 5.0  # seconds the first read is waited for; it goes on in the background if the database is slow


def with_phrasings(library: ArticleLibrary, phrasings: Phrasings) -> ArticleLibrary:
    """Return the library with each question's learned phrasings attached, digests and fingerprint to match."""
    by_article: dict[str, dict[str | None, tuple[str, ...]]] = defaultdict(dict)
    for key, phrases in phrasings.items():
        slug, question_id = split_key(key)
        if slug in library.articles and phrases:
            by_article[slug][question_id] = tuple(phrases)
    if not by_article:
        return library
    changed = {
        slug: article
        for slug, found in sorted(by_article.items())
        if (article := _attach(library.articles[slug], found)) is not library.articles[slug]
    }
    if not changed:
        return library
    stamp = hashlib.sha256(library.fingerprint.encode())
    for slug, article in changed.items():
        stamp.update(f"{slug}:{article.digest}\n".encode())
    return dataclasses.replace(library, articles={**library.articles, **changed}, fingerprint=stamp.hexdigest())


def _attach(article: Article, found: dict[str | None, tuple[str, ...]]) -> Article:
    questions = tuple(dataclasses.replace(q, phrasings=found[q.id]) if q.id in found else q for q in article.questions)
    whole = found.get(None, ())  # the article's own document: opened as a whole
    used = sorted((q.id, q.phrasings) for q in questions if q.phrasings)
    if not used and not whole:
        return article  # phrasings of questions the article no longer has
    digest = hashlib.sha256(f"{article.digest}\n{used!r}\n{whole!r}".encode()).hexdigest()
    return dataclasses.replace(article, questions=questions, phrasings=whole, digest=digest)


class PhrasedLibrary:
    """A library callable for the search engine: the current library joined with the learned phrasings.

    The phrasings are re-read in a thread of their own at most once per `check_interval` seconds: never in the
    caller's thread, where a request may hold an SQLite write transaction the read would wait for. The first read
    is waited for (a little), so that a command-line index build includes them. A failing read keeps the last
    phrasings: search never fails for them.
    """

    def __init__(
        self,
        library: Callable[[], ArticleLibrary],
        load: Loader,
        check_interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._library = library
        self._load = load
        self._interval = max(check_interval, MIN_INTERVAL)
        self._clock = clock
        self._lock = threading.Lock()
        self._checked_at = -math.inf
        self._thread: threading.Thread | None = None
        self._loaded = False
        self._phrasings: Phrasings = {}
        self._failing = False
        self._joined: tuple[ArticleLibrary, Phrasings, ArticleLibrary] | None = None  # (base, phrasings, result)

    def __call__(self) -> ArticleLibrary:
        """Return the library with the learned phrasings."""
        base = self._library()
        if self._clock() - self._checked_at >= self._interval:
            self._start_refresh()
        phrasings, joined = self._phrasings, self._joined
        if joined is not None and joined[0] is base and joined[1] is phrasings:
            return joined[2]
        result = with_phrasings(base, phrasings)
        self._joined = (base, phrasings, result)
        return result

    def _start_refresh(self) -> None:
        with self._lock:
            running = self._thread is not None and self._thread.is_alive()
            if running or self._clock() - self._checked_at < self._interval:
                return
            self._checked_at = self._clock()
            thread = self._thread = threading.Thread(target=self.refresh, daemon=True, name="search-phrasings")
            thread.start()
        if not self._loaded:
            thread.join(FIRST_WAIT)

    def close(self, timeout: float = 30.0) -> None:
        """Wait for a read in progress to end (before the database engine is disposed of)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def refresh(self) -> None:
        """Read the phrasings in use now (in the caller's thread)."""
        try:
            fresh = dict(self._load())
        except Exception as exc:  # the database restarting must not stop search
            if not self._failing:
                log.warning("search: cannot read the learned phrasings (%s); keeping the last ones", exc)
            self._failing = True
            return
        self._failing, self._loaded = False, True
        if fresh != self._phrasings:
            self._phrasings = fresh
