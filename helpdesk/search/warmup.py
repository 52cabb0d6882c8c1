"""Warming a freshly opened generation in the background, so that its first queries do not read from disk.

A new process, or a new generation after an article edit, starts with no posting list in memory: the first
queries would read and score every common word themselves, several times slower than a warm query. The warm-up
runs in a thread of its own with a searcher of its own (its own file handles); it takes the query lock only for
a moment per posting list, never the writers' locks, and steps aside while a query runs. It loads, within
`WARM_POSTINGS` and `WARM_SECONDS`:

0. the generation's warm file, if an earlier process wrote one: everything below at once (see `warmfile`);
1. the spelling vocabulary and BM25's per-document length terms of each field (which also make the queries'
   own reads several times faster);
2. the words queries used in the previous generation, rescored from their kept term frequencies where the
   segments holding them are unchanged (an incremental update only adds a small segment) - meanwhile queries
   rescore the previous generation's lists the same way rather than read them;
3. the words of the articles just edited, every word of the synonym table, and the synonym phrases;
4. the words of each field with the most documents, taking the fields in turn (the ranking of the generation
   this one updates is reused: it changes little, and making one costs a scan of the term dictionary).

A warm-up that completes writes the generation's warm file for the next process to open it.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

from helpdesk.search import warmfile
from helpdesk.search.documents import TEXT_FIELDS
from helpdesk.search.reader import (
    EMPTY,
    PAUSE_EVERY,
    Key,
    OpenIndex,
    Segment,
    compact,
    field_norms,
    impacts,
    read_term,
)
from helpdesk.search.scoring import Frequencies, Postings, intersect
from helpdesk.search.spelling import english_words
from helpdesk.search.synonyms import Alternative, SynonymTable

if TYPE_CHECKING:
    from whoosh.searching import Searcher

log = logging.getLogger(__name__)

#: Posting lists loaded ahead of queries, in postings (9 bytes each: document, impact, frequency): about 22 MB.
WARM_POSTINGS = 2_500_000
WARM_SECONDS = 30.0  # stop warming after this long, whatever is left (a slow disk, a busy machine)
RANKED_PER_FIELD = 2_000  # words of each field ranked by document frequency
YIELD_SECONDS = 0.001  # while a query runs, the warm-up sleeps in steps this long (releasing the GIL) ...
MAX_YIELD = 0.05  # ... for at most this long at a time: under constant load it still finishes


@dataclass(slots=True)
class Seed:
    """What a closed generation leaves to the warm-up of its successor."""

    layout: list[tuple[Segment, int, frozenset[int]]]
    lengths: dict[str, dict[Segment, array[int]]]
    entries: list[tuple[Key, Postings, Frequencies | None]]  # most recently used first
    ranking: list[tuple[str, str, int]]  # (field, term, documents), in warm-up order


def seed_of(opened: OpenIndex | None) -> Seed | None:
    """Return what `opened` can pass on, before it is closed (None if it was never warmed)."""
    if opened is None or not opened.lengths:
        return None
    warmer = getattr(opened, "warmer", None)
    ranking = warmer.ranking if isinstance(warmer, Warmer) else []
    return Seed(opened.layout(), dict(opened.lengths), opened.snapshot(), ranking)


class Warmer:
    """Warm one generation once, in a daemon thread."""

    def __init__(
        self,
        opened: OpenIndex,
        synonyms: SynonymTable,
        seed: Seed | None = None,
        *,
        budget: int = WARM_POSTINGS,
        seconds: float = WARM_SECONDS,
    ) -> None:
        self.opened = opened
        self.synonyms = synonyms
        self.ranking: list[tuple[str, str, int]] = []
        self._seed = seed
        self._budget = budget
        self._deadline = 0.0
        self._seconds = seconds
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"search-warmup-{opened.name}")

    def start(self) -> Warmer:
        """Start warming in the background and return at once."""
        self.opened.warmer = self
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        """Wait for the warm-up to end (tests, benchmarks)."""
        self._thread.join(timeout)

    def _run(self) -> None:
        opened, state = self.opened, self.opened.warm
        started = time.perf_counter()
        self._deadline = time.monotonic() + self._seconds
        searcher: Searcher | None = None
        try:
            english_words()
            opened.vocabulary()
            searcher = opened.warm_searcher()
            loaded = warmfile.load(opened)
            if loaded is not None:
                self._install(searcher, loaded)
            else:
                self._norms(searcher, self._seed.lengths if self._seed is not None else {})
                self._terms(searcher)
                if state.stopped in ("", "postings budget spent"):  # complete: worth keeping for other processes
                    warmfile.save(opened, warmfile.WarmData(dict(opened.lengths), self._best(), self.ranking))
        except Exception as exc:  # a generation closed or deleted under the warm-up: queries read it themselves
            state.stopped = state.stopped or f"failed: {exc!r}"
            if not opened.closed:
                log.warning("search index %s: warm-up stopped (%r)", opened.name, exc)
        finally:
            opened.rescore = None
            self._seed = None
            if searcher is not None:
                searcher.close()
            state.seconds = time.perf_counter() - started
            state.done = True
            opened.warmed.set()
            log.info(
                "search index %s: warmed %d posting lists (%d postings, %d reused%s) in %.2f s%s",
                opened.name,
                state.terms,
                state.postings,
                state.reused,
                ", from its warm file" if state.loaded else "",
                state.seconds,
                f"; {state.stopped}" if state.stopped else "",
            )

    def _install(self, searcher: Searcher, data: warmfile.WarmData) -> None:
        """Take the lists of the warm file (written by this generation's first warm-up, in whatever process)."""
        self.opened.warm.loaded = True
        self._norms(searcher, data.lengths)
        self.ranking = data.ranking
        for key, found, tfs in data.entries:
            if self._stop() or not self._add(key, found, tfs):
                break

    def _best(self) -> list[tuple[Key, Postings, Frequencies | None]]:
        """Return the cached lists worth a warm file: most recently used first, within the postings budget."""
        chosen, total = [], 0
        for key, found, tfs in self.opened.snapshot():
            if total + len(found[0]) <= self._budget:
                chosen.append((key, found, tfs))
                total += len(found[0])
        return chosen

    def _norms(self, searcher: Searcher, known: dict[str, dict[Segment, array[int]]]) -> None:
        # Not stepping aside here (measured: it only delays them): queries racing the warm-up read their own words
        # several times faster with these, so the sooner they are there the better (0.7 s at 10,000 articles).
        for name in sorted(TEXT_FIELDS, key=lambda f: f != "answer"):  # the longest lists first
            lengths, norms = field_norms(searcher, name, known.get(name, {}))
            self.opened.set_norms(name, norms, lengths)

    def _terms(self, searcher: Searcher) -> None:
        opened, seed = self.opened, self._seed
        reuse = _Reuse(seed, opened) if seed is not None else None
        if reuse is not None and reuse.kept:
            opened.rescore = reuse.postings  # queries racing the warm-up rescore rather than read
        phrases: list[Key] = []
        for key, size in self._keys(searcher, reuse):
            if self._stop():
                break
            self._step()
            if len(key[1]) > 1:
                phrases.append(key)
            elif size <= self._budget - opened.warm.postings and opened.cached(key) is None:
                fieldname, (term,) = key
                found = reuse.postings(searcher, key) if reuse is not None else None
                if found is None:
                    read = read_term(searcher, fieldname, term, opened.norms(fieldname), pause=self._step)
                    fresh: tuple[Postings, Frequencies | None] = (
                        ((read[0], read[1]), read[2]) if read is not None else (EMPTY, None)
                    )  # absent: known
                    if not self._add(key, *fresh):
                        return
                elif not self._add(key, *found, reused=True):
                    return
        for key in phrases:  # from the words just loaded: no disk read
            parts = [opened.cached((key[0], (t,))) for t in key[1]]
            present = [p for p in parts if p is not None]
            if len(present) == len(parts) and opened.cached(key) is None:
                joined = intersect(present)
                if joined[0] and not self._add(key, joined, None):
                    return

    def _add(self, key: Key, found: Postings, tfs: Frequencies | None, *, reused: bool = False) -> bool:
        state = self.opened.warm
        if state.postings + len(found[0]) > self._budget:
            return True  # too long for what is left: a shorter list further on may fit
        if not self.opened.add_warm(key, found, tfs):
            state.stopped = "cache full" if not self.opened.closed else "generation closed"
            return False
        state.terms += 1
        state.postings += len(found[0])
        state.reused += len(found[0]) if reused else 0
        return True

    def _keys(self, searcher: Searcher, reuse: _Reuse | None) -> Iterator[tuple[Key, int]]:
        """Yield the posting lists to load, most useful first, with their length when known beforehand."""
        seed = self._seed
        if seed is not None:
            yield from ((key, len(found[0])) for key, found, _ in seed.entries)
        if reuse is not None and reuse.kept:  # the words of the articles just edited: the next to be searched
            for leaf, _ in searcher.reader().leaf_readers():
                if (leaf.segment().segment_id(), leaf.doc_count_all()) in reuse.fresh:
                    yield from (((name, (_text(t),)), 0) for name in TEXT_FIELDS for t in leaf.lexicon(name))
        phrases = {Alternative(phrase, 1.0).terms for group in self.synonyms.groups for phrase in group} - {()}
        words = sorted({t for p in phrases for t in p})
        for name in TEXT_FIELDS:
            yield from (((name, (t,)), 0) for t in words)
            yield from (((name, p), 0) for p in sorted(phrases) if len(p) > 1)
        # The ranking of a generation this one only updates is still good, and reading one costs a term scan.
        kept = seed is not None and seed.ranking and reuse is not None and reuse.kept
        self.ranking = seed.ranking if kept else _ranking(searcher, self._step)  # type: ignore[union-attr]
        yield from (((name, (term,)), documents) for name, term, documents in self.ranking)

    def _stop(self) -> bool:
        state = self.opened.warm
        if self.opened.closed:
            state.stopped = "generation closed"
        elif time.monotonic() > self._deadline:
            state.stopped = f"time budget of {self._seconds:.0f} s spent"
        elif state.postings >= self._budget * 0.999:
            state.stopped = "postings budget spent"
        return bool(state.stopped)

    def _step(self, longest: float = MAX_YIELD) -> None:
        """Step aside while a query runs (called after every fraction of a millisecond of work): sleeping releases
        the GIL, which a busy thread would hold for the whole switch interval (5 ms) whenever the query thread
        waits on a read from disk; `longest` bounds the wait, so that the warm-up ends even under constant load."""
        waited = 0.0
        while self.opened.busy and waited < longest:
            time.sleep(YIELD_SECONDS)
            waited += YIELD_SECONDS


def _ranking(searcher: Searcher, pause: Callable[[], None]) -> list[tuple[str, str, int]]:
    """Return the words of each field with the most documents, fields interleaved by rank."""
    per_field = []
    leaves = [leaf for leaf, _ in searcher.reader().leaf_readers()]
    for name in TEXT_FIELDS:
        counts: dict[str, int] = {}
        for leaf in leaves:
            for i, (term, info) in enumerate(leaf.iter_field(name)):
                counts[term] = counts.get(term, 0) + info.doc_frequency()
                if i % (PAUSE_EVERY // 8) == 0:  # a term costs several postings' time
                    pause()
        top = heapq.nlargest(RANKED_PER_FIELD, counts.items(), key=lambda item: item[1])
        per_field.append([(name, _text(t), n) for t, n in top])
    return [entry for rank in zip_longest(*per_field) for entry in rank if entry is not None]


def _text(term: bytes | str) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


class _Reuse:
    """Rescore the previous generation's posting lists where the segments holding them are unchanged."""

    def __init__(self, seed: Seed, opened: OpenIndex) -> None:
        self.entries = {key: (found[0], tfs) for key, found, tfs in seed.entries if tfs is not None}
        old = {segment: (base, deleted) for segment, base, deleted in seed.layout}
        self.kept: list[tuple[int, int]] = []  # [first, end) of the old document numbers still valid as they are
        self.fresh: set[Segment] = set()  # segments of the new generation whose postings must be read
        self.deleted: list[int] = []  # documents deleted since, in kept segments
        for segment, base, deleted in opened.layout():
            before = old.get(segment)
            if before is not None and before[0] == base:
                self.kept.append((base, base + segment[1]))
                self.deleted.extend(deleted - before[1])
            else:
                self.fresh.add(segment)
        self.deleted.sort()
        self.whole = len(self.kept) == len(seed.layout)  # no old segment merged away or moved
        self.opened = opened

    def postings(self, searcher: Searcher, key: Key) -> tuple[Postings, Frequencies] | None:
        """Return (postings, frequencies) of `key` in the new generation, or None to read it from disk."""
        entry = self.entries.pop(key, None)
        if entry is None or not self.kept:
            return None
        ids, tfs = self._surviving(*entry)
        fieldname, (term,) = key
        norms = self.opened.norms(fieldname)
        if self.fresh:  # the new segment is small: reading the word there is cheap
            new = read_term(searcher, fieldname, term, norms, self.fresh)
            if new is not None:
                if not ids or new[0][0] > ids[-1]:
                    ids, tfs = ids + new[0], compact(list(tfs) + list(new[2]))
                else:
                    merged = sorted([*zip(ids, tfs, strict=True), *zip(new[0], new[2], strict=True)])
                    ids, tfs = array("i", (d for d, _ in merged)), compact([tf for _, tf in merged])
        if not ids:
            return None
        return (ids, impacts(searcher.idf(fieldname, term), tfs, ids, norms)), tfs

    def _surviving(self, ids: array[int], tfs: Frequencies) -> tuple[array[int], Frequencies]:
        """Return the postings still valid: in a kept segment and not deleted since (array slices, no loop)."""
        spans = (
            [(0, len(ids))]
            if self.whole
            else [(bisect_left(ids, first), bisect_left(ids, end)) for first, end in self.kept]
        )
        for d in self.deleted:
            i = bisect_left(ids, d)
            if i < len(ids) and ids[i] == d:
                spans = [part for lo, hi in spans for part in ((lo, i), (i + 1, hi)) if lo <= i < hi] + [
                    (lo, hi) for lo, hi in spans if not lo <= i < hi
                ]
        if spans == [(0, len(ids))]:
            return ids, tfs
        spans.sort()
        out_ids = array("i")
        out_tfs: array[Any] = array(tfs.typecode)  # ints or floats, as `tfs`: known at run time only
        for lo, hi in spans:
            out_ids.extend(ids[lo:hi])
            out_tfs.extend(tfs[lo:hi])
        return out_ids, out_tfs
