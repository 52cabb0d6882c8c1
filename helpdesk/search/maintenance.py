"""Keeping the index usable and in step with the library, across threads and processes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from helpdesk.kb.library import ArticleLibrary
from helpdesk.search.documents import document_count
from helpdesk.search.index import IndexStore, IndexUnusable, Progress
from helpdesk.search.reader import OpenIndex
from helpdesk.search.synonyms import SynonymTable
from helpdesk.search.vector_writer import write_vectors
from helpdesk.search.vectors import open_vectors
from helpdesk.search.warmup import Warmer, seed_of

log = logging.getLogger(__name__)

LOCK_WAIT = 600.0  # with no usable index, wait this long for another process's build rather than race it
SYNC_INTERVAL = 1.0  # at most one background sync attempt per second and process
MAX_BACKOFF = 300.0  # after failed builds, wait up to this long before trying again


class IndexMaintainer:
    """Open the published generation for readers; bring it up to date for writers."""

    def __init__(self, store: IndexStore, library: Callable[[], ArticleLibrary], synonyms: SynonymTable) -> None:
        self.store = store
        self._library = library
        self._synonyms = synonyms
        self._state_lock = threading.Lock()
        self._write_lock = threading.Lock()  # one writer per process; the file lock orders processes
        self._opened: OpenIndex | None = None
        self._stamp: tuple[int, int] | None = None
        self._unusable: str | None = None  # a generation that failed at query time: never reopened
        self._thread: threading.Thread | None = None
        self._last_sync = 0.0
        self._backoff = SYNC_INTERVAL

    def current(self) -> OpenIndex | None:
        """Return the published generation, opened; start a background sync if it is missing or stale."""
        stamp = self.store.pointer_stamp()
        opened = self._opened
        if opened is None or stamp != self._stamp:
            opened = self._reopen(stamp)
        if opened is None or self.stale(opened):
            self._schedule_sync()
        return opened

    def stale(self, opened: OpenIndex) -> bool:
        """Tell whether the opened generation lags behind the library or the published pointer."""
        return (
            opened.meta.fingerprint != self._library().fingerprint or self._unusable is not None or self._stamp is None
        )

    def _reopen(self, stamp: tuple[int, int] | None) -> OpenIndex | None:
        with self._state_lock:
            if stamp == self._stamp and (self._opened is not None or self._unusable is not None):
                return self._opened  # another thread got here first, or this generation already failed
            self._stamp = stamp
            name = self.store.current()
            if name is None or name == self._unusable:
                # The directory may have been deleted: the open files still answer until a rebuild lands.
                return self._opened
            if self._opened is not None and self._opened.name == name:
                return self._opened
            try:
                fresh = OpenIndex(self.store, name, self.store.read_meta(name), self._synonyms, warmable=True)
            except IndexUnusable as exc:
                log.warning("search index: %s; rebuilding", exc)
                self._unusable = name
                return self._opened
            old, self._opened, self._unusable = self._opened, fresh, None
        # Warm it in the background, from the old generation's posting lists where they still hold: the warm-up
        # never runs in this request, and it takes no lock a query or a writer waits for.
        Warmer(fresh, self._synonyms, seed_of(old)).start()
        if old is not None:
            old.close()
        return fresh

    def close(self, timeout: float = 30.0) -> None:
        """Wait for a background sync to finish and release the open generation."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        with self._state_lock:
            opened, self._opened, self._stamp = self._opened, None, None
        if opened is not None:
            opened.close()  # a warm-up in progress notices and stops at its next posting list
            if isinstance(opened.warmer, Warmer):
                opened.warmer.join(timeout)

    def mark_broken(self, opened: OpenIndex) -> None:
        """Stop using a generation that failed at query time and rebuild it in the background."""
        with self._state_lock:
            self._unusable = opened.name
            if self._opened is opened:
                self._opened = None
        opened.close()
        self._schedule_sync()

    def _schedule_sync(self) -> None:
        now = time.monotonic()
        thread = self._thread
        if (thread is not None and thread.is_alive()) or now - self._last_sync < self._backoff:
            return
        self._last_sync = now
        self._thread = threading.Thread(
            target=self.ensure, kwargs={"wait": False}, daemon=True, name="search-index-sync"
        )
        self._thread.start()

    def ensure(self, *, wait: bool) -> None:
        """Build or update the index as needed; `wait` also verifies it on disk and waits for other builders."""
        try:
            with self._write_lock:
                library = self._library()
                if self._up_to_date(library, deep=wait):
                    return
                usable = self._opened is not None and self._unusable is None
                with self.store.locked(LOCK_WAIT if wait and not usable else 0) as got:
                    if not got:
                        log.info("search index: another process is updating it; serving the current one")
                        return
                    self._sync_locked(library)
            self._backoff = SYNC_INTERVAL
        except Exception:
            # A build that fails (disk full, unreadable files) must not be retried in a tight loop.
            self._backoff = min(self._backoff * 4, MAX_BACKOFF)
            log.exception("search index: could not bring it up to date; next try in %.0f s", self._backoff)
        finally:
            self.current()

    def _up_to_date(self, library: ArticleLibrary, *, deep: bool) -> bool:
        name = self.store.current()
        if name is None or name == self._unusable:
            return False
        try:
            meta = self.store.read_meta(name)
            if meta.fingerprint != library.fingerprint:
                return False
            if deep:  # open it afresh: files damaged under an open reader only show this way
                OpenIndex(self.store, name, meta, self._synonyms).close()
            return self._has_vectors(name)
        except IndexUnusable as exc:
            log.warning("search index: %s; rebuilding", exc)
            return False

    def _sync_locked(self, library: ArticleLibrary) -> None:
        name = self.store.current()
        if name is not None and name != self._unusable:
            try:
                meta = self.store.read_meta(name)
                if meta.fingerprint == library.fingerprint:  # another process did the work while we waited
                    OpenIndex(self.store, name, meta, self._synonyms).close()
                    if not self._has_vectors(name):  # built lexical-only, or with another model
                        self._embed(name, library)
                    return
                if self.store.update(name, meta, library) is not None:
                    return
            except Exception as exc:
                log.warning("search index: cannot update %s (%s); rebuilding it whole", name, exc)
        previous = self.store.current()
        self._embed(self.store.build(library), library, previous)
        self._unusable = None

    def _has_vectors(self, name: str) -> bool:
        """Tell whether a generation holds the embeddings of the current model (always True without a model)."""
        encoder = self.store.encoder
        return encoder is None or open_vectors(self.store.root / name, encoder.model_id) is not None

    def _embed(
        self, name: str, library: ArticleLibrary, previous: str | None = None, progress: Progress | None = None
    ) -> None:
        """Embed a published generation, reusing the vectors of unchanged texts (its own, or `previous`'s); it
        answers lexically until they land. Call with the lock held."""
        encoder = self.store.encoder
        if encoder is None:
            return
        cache = open_vectors(self.store.root / name, encoder.model_id)
        if cache is None and previous is not None:
            cache = open_vectors(self.store.root / previous, encoder.model_id)
        started = time.perf_counter()
        fresh = write_vectors(self.store.root / name, library, encoder, cache, progress)
        log.info("search index %s: embedded %d new texts in %.1f s", name, fresh, time.perf_counter() - started)

    def rebuild(self, progress: Progress | None = None, embed_progress: Progress | None = None) -> int:
        """Build a complete new generation, publish it and return its number of documents."""
        with self._write_lock, self.store.locked(LOCK_WAIT) as got:
            if not got:
                raise TimeoutError("another process held the search index lock for too long")
            library = self._library()
            previous = self.store.current()
            self._embed(self.store.build(library, progress), library, previous, embed_progress)
            self._unusable = None
        self.current()
        return document_count(library.articles)

    def check(self) -> list[str]:
        """Return the problems of the published index in words ([] when healthy)."""
        name = self.store.current()
        if name is None:
            return [f"search index is missing (nothing published in {self.store.root})"]
        try:
            meta = self.store.read_meta(name)
            probe = OpenIndex(self.store, name, meta, self._synonyms)
            try:
                keys = set(probe.stored_keys())
            finally:
                probe.close()
        except IndexUnusable as exc:
            return [str(exc)]
        except Exception as exc:
            return [f"index generation {name} is unreadable or corrupt: {exc!r}"]
        problems: list[str] = []
        library = self._library()
        if meta.fingerprint != library.fingerprint:
            changed = sum(1 for s, a in library.articles.items() if meta.digests.get(s) != a.digest)
            removed = sum(1 for s in meta.digests if s not in library.articles)
            problems.append(f"search index is stale: {changed} articles changed or added, {removed} removed")
        if not self._has_vectors(name):
            problems.append(f"index generation {name} has no embeddings of the model in use (search is lexical)")
        expected = document_count(library.articles)
        if len(keys) != expected:
            problems.append(f"search index holds {len(keys)} documents, the library makes {expected}")
        return problems
