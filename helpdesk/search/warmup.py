"""Warming a freshly opened generation in the background, so that its first queries do not read from disk.

A new process, or a new generation after an article edit, starts with no posting list in memory: the first
queries would read and score every common term themselves, several times slower than a warm query. The warm-up
runs in a thread of its own with a searcher of its own (its own file handles), never takes the query lock but
for a moment per posting list and never the writers' locks. In order, within `WARM_POSTINGS` and
`WARM_SECONDS`, it loads:

1. the spelling vocabulary and BM25's per-document length terms of each field (which also make the queries'
   own reads several times faster);
2. the words queries used in the previous generation, rescored from their kept term frequencies when the
   segments holding them are unchanged (an incremental update only adds one small segment);
3. every word of the synonym table, and the synonym phrases;
4. the words of each field with the most documents, taking the fields in turn (the previous generation's
   ranking is reused: it changes little between two generations and reading it costs a scan of the terms).
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import zip_longest

from helpdesk.search.documents import TEXT_FIELDS
from helpdesk.search.reader import Key, OpenIndex, Postings, Segment, compact, field_norms, impacts, read_term
from helpdesk.search.scoring import intersect
from helpdesk.search.spelling import english_words
from helpdesk.search.synonyms import Alternative, SynonymTable

log = logging.getLogger(__name__)

#: Posting lists loaded ahead of queries, in postings (9 bytes each: document, impact, frequency): about 22 MB.
WARM_POSTINGS = 2_500_000
WARM_SECONDS = 30.0  # stop warming after this long, whatever is left (a slow disk, a busy machine)
RANKED_PER_FIELD = 2_000  # words of each field ranked by document frequency
YIELD_SECONDS = 0.001  # while a query runs, the warm-up sleeps in steps this long (releasing the GIL) ...
MAX_YIELD = 0.05  # ... for at most this long per posting list: under constant load it still finishes


@dataclass(slots=True)
class Seed:
    """What a closed generation leaves to the warm-up of its successor."""

    layout: list[tuple[Segment, int, frozenset[int]]]
    lengths: dict[str, dict[Segment, array]]
    entries: list[tuple[Key, Postings, array | None]]  # most recently used first
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

    def __init__(self, opened: OpenIndex, synonyms: SynonymTable, seed: Seed | None = None, *,
                 budget: int = WARM_POSTINGS, seconds: float = WARM_SECONDS) -> None:
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
        self.opened.warmer = self  # type: ignore[attr-defined]
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        """Wait for the warm-up to end (tests, benchmarks)."""
        self._thread.join(timeout)

    def _run(self) -> None:
        opened, state = self.opened, self.opened.warm
        started = time.perf_counter()
        self._deadline = time.monotonic() + self._seconds
        searcher = None
        try:
            english_words()
            opened.vocabulary()
            searcher = opened.warm_searcher()
            self._norms(searcher)
            self._terms(searcher)
        except Exception as exc:  # a generation closed or deleted under the warm-up: queries read it themselves
            state.stopped = state.stopped or f"failed: {exc!r}"
            if not opened.closed:
                log.warning("search index %s: warm-up stopped (%r)", opened.name, exc)
        finally:
            self._seed = None
            if searcher is not None:
                searcher.close()
            state.seconds = time.perf_counter() - started
            state.done = True
            opened.warmed.set()
            log.info("search index %s: warmed %d posting lists (%d postings, %d reused) in %.2f s%s",
                     opened.name, state.terms, state.postings, state.reused, state.seconds,
                     f"; {state.stopped}" if state.stopped else "")

    def _norms(self, searcher: object) -> None:
        seed = self._seed
        for name in sorted(TEXT_FIELDS, key=lambda f: f != "answer"):  # the longest lists first
            known = seed.lengths.get(name, {}) if seed is not None else {}
            lengths, norms = field_norms(searcher, name, known)
            self.opened.set_norms(name, norms, lengths)
            self._step()

    def _terms(self, searcher: object) -> None:
        opened, state, seed = self.opened, self.opened.warm, self._seed
        reuse = _Reuse(seed, opened) if seed is not None else None
        phrases: list[Key] = []
        for key in self._keys(searcher):
            if self._stop():
                return
            if len(key[1]) > 1:
                phrases.append(key)
                continue
            if opened.cached(key) is not None:
                continue
            fieldname, (term,) = key
            found = reuse.postings(searcher, key) if reuse is not None else None
            if found is not None:
                state.reused += len(found[0][0])
            else:
                read = read_term(searcher, fieldname, term, opened.norms(fieldname))
                if read is None:
                    continue
                found = ((read[0], read[1]), read[2])
            if not self._add(key, *found):
                return
        for key in phrases:  # from the words just loaded: no disk read
            parts = [opened.cached((key[0], (t,))) for t in key[1]]
            if all(p is not None for p in parts) and opened.cached(key) is None:
                found = intersect(parts)  # type: ignore[arg-type]
                if found[0] and not self._add(key, found, None):
                    return

    def _add(self, key: Key, found: Postings, tfs: array | None) -> bool:
        state = self.opened.warm
        if state.postings + len(found[0]) > self._budget:
            return True  # too long for what is left: a shorter list further on may fit
        if not self.opened.add_warm(key, found, tfs):
            state.stopped = "cache full" if not self.opened.closed else "generation closed"
            return False
        state.terms += 1
        state.postings += len(found[0])
        self._step()
        return True

    def _keys(self, searcher: object) -> Iterator[Key]:
        """Yield the posting lists to load, most useful first (duplicates are skipped by the caller)."""
        seed = self._seed
        if seed is not None:
            yield from (key for key, _, _ in seed.entries)
        phrases = {Alternative(phrase, 1.0).terms for group in self.synonyms.groups for phrase in group} - {()}
        words = sorted({t for p in phrases for t in p})
        for name in TEXT_FIELDS:
            yield from ((name, (t,)) for t in words)
            yield from ((name, p) for p in sorted(phrases) if len(p) > 1)
        self.ranking = seed.ranking if seed is not None and seed.ranking else _ranking(searcher)
        yield from ((name, (term,)) for name, term, _ in self.ranking)

    def _stop(self) -> bool:
        state = self.opened.warm
        if self.opened.closed:
            state.stopped = "generation closed"
        elif time.monotonic() > self._deadline:
            state.stopped = f"time budget of {self._seconds:.0f} s spent"
        elif state.postings >= self._budget:
            state.stopped = "postings budget spent"
        return bool(state.stopped)

    def _step(self) -> None:
        """Step aside while queries run: sleeping releases the GIL, which a busy loop would only share."""
        waited = 0.0
        while self.opened.busy and waited < MAX_YIELD:
            time.sleep(YIELD_SECONDS)
            waited += YIELD_SECONDS


def _ranking(searcher: object) -> list[tuple[str, str, int]]:
    """Return the words of each field with the most documents, fields interleaved by rank."""
    per_field = []
    leaves = [leaf for leaf, _ in searcher.reader().leaf_readers()]  # type: ignore[attr-defined]
    for name in TEXT_FIELDS:
        counts: dict[str, int] = {}
        for leaf in leaves:
            for term, info in leaf.iter_field(name):
                counts[term] = counts.get(term, 0) + info.doc_frequency()
        top = heapq.nlargest(RANKED_PER_FIELD, counts.items(), key=lambda item: item[1])
        per_field.append([(name, t.decode("utf-8") if isinstance(t, bytes) else t, n) for t, n in top])
    return [entry for rank in zip_longest(*per_field) for entry in rank if entry is not None]


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

    def postings(self, searcher: object, key: Key) -> tuple[Postings, array] | None:
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
        return (ids, impacts(searcher.idf(fieldname, term), tfs, ids, norms)), tfs  # type: ignore[attr-defined]

    def _surviving(self, ids: array, tfs: array) -> tuple[array, array]:
        """Return the postings still valid: in a kept segment and not deleted since (array slices, no loop)."""
        spans = ([(0, len(ids))] if self.whole else
                 [(bisect_left(ids, first), bisect_left(ids, end)) for first, end in self.kept])
        for d in self.deleted:
            i = bisect_left(ids, d)
            if i < len(ids) and ids[i] == d:
                spans = [part for lo, hi in spans for part in ((lo, i), (i + 1, hi)) if lo <= i < hi] + \
                        [(lo, hi) for lo, hi in spans if not lo <= i < hi]
        if spans == [(0, len(ids))]:
            return ids, tfs
        spans.sort()
        out_ids, out_tfs = array("i"), array(tfs.typecode)
        for lo, hi in spans:
            out_ids.extend(ids[lo:hi])
            out_tfs.extend(tfs[lo:hi])
        return out_ids, out_tfs
