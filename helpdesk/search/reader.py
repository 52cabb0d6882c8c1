"""Answering queries: from an opened index generation, or from memory while no index is usable."""

from __future__ import annotations

import math
import threading
from array import array
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

from whoosh import scoring

from helpdesk.kb.library import ArticleLibrary
from helpdesk.search.analysis import stem, stems
from helpdesk.search.documents import TEXT_FIELDS, article_documents, count_words
from helpdesk.search.index import IndexMeta, IndexStore, IndexUnusable
from helpdesk.search.query import QueryPlan
from helpdesk.search.scoring import Frequencies, Postings, intersect, rank
from helpdesk.search.spelling import Vocabulary
from helpdesk.search.synonyms import SynonymTable

if TYPE_CHECKING:
    from whoosh.searching import Searcher

#: (number of matching documents, [(document key, score, share of the best for the relevance floor)] best first)
Ranked = tuple[int, list[tuple[str, float, float]]]
Key = tuple[str, tuple[str, ...]]  # (field, stems): one word, or the words of a phrase
Segment = tuple[str, int]  # (segment id, documents): a segment's files never change, only its deletions
#: Impacts kept in memory per generation, in postings (9 bytes each with the term frequency): common terms are
#: read from disk once.
CACHE_POSTINGS = 4_000_000
EMPTY: Postings = (array("i"), array("f"))


class _BM25(scoring.BM25F):  # type: ignore[misc]  # whoosh is read untyped (Any): see [tool.mypy]
    """BM25F with the usual BM25 idf, which separates rare from common words more than Whoosh's log(N/(n+1))+1."""

    def idf(self, searcher: Searcher, fieldname: str, text: str) -> float:
        n = searcher.doc_frequency(fieldname, text)
        total = searcher.doc_count_all()
        return math.log(1.0 + (total - n + 0.5) / (n + 0.5))


K1 = 1.2
B = 0.75
PAUSE_EVERY = 512  # postings read between two calls of a `pause` function (well under a millisecond)
#: Headings and titles are short: their length says little, so it is normalised less than an answer's.
#: Learned phrasings are not normalised at all: most documents have none, so their average length is near zero.
FIELD_B = {"topic": 0.3, "question": 0.3, "phrasings": 0.0}
WEIGHTING = _BM25(B=B, K1=K1, **{f"{field}_B": b for field, b in FIELD_B.items()})


def _no_pause() -> None:
    pass


def field_norms(
    searcher: Searcher, field: str, known: dict[Segment, array[int]]
) -> tuple[dict[Segment, array[int]], array[float]]:
    """Return the field's lengths per segment and BM25's length term K1*(1-B+B*len/avg) per document: with it a
    posting list is scored without a Whoosh look-up per document. Lengths of segments in `known` are reused."""
    lengths: dict[Segment, array[int]] = {}
    for leaf, _ in searcher.reader().leaf_readers():
        segment = (leaf.segment().segment_id(), leaf.doc_count_all())
        found = known.get(segment)
        if found is None:
            found = array("I", [leaf.doc_field_length(d, field, 1) or 1 for d in range(segment[1])])
        lengths[segment] = found
    avg = searcher.avg_field_length(field) or 1
    b = FIELD_B.get(field, B)
    # The very expression of whoosh's bm25(): the impacts must equal Whoosh's scores to the last bit.
    return lengths, array("d", [K1 * ((1 - b) + b * fl / avg) for part in lengths.values() for fl in part])


def read_term(
    searcher: Searcher,
    field: str,
    term: str,
    norms: array[float],
    only: set[Segment] | None = None,
    pause: Callable[[], None] = _no_pause,
) -> tuple[array[int], array[float], Frequencies] | None:
    """Return (documents, BM25F impacts, term frequencies) of a term, read segment by segment (only those in
    `only` if given); None if absent. `pause` is called every `PAUSE_EVERY` postings."""
    reader = searcher.reader()
    ids, tfs = array("i"), []
    for leaf, base in reader.leaf_readers():
        if only is not None and (leaf.segment().segment_id(), leaf.doc_count_all()) not in only:
            continue
        if (field, term) not in leaf:
            continue
        matcher = leaf.postings(field, term)  # deleted documents are already left out
        active, doc, weight, step = matcher.is_active, matcher.id, matcher.weight, matcher.next
        count = 0
        while active():
            ids.append(base + doc())
            tfs.append(weight())
            step()
            count += 1
            if count == PAUSE_EVERY:
                pause()
                count = 0
    if not ids:
        return None
    return ids, impacts(searcher.idf(field, term), tfs, ids, norms), compact(tfs)


def impacts(
    idf: float, tfs: Iterator[float] | list[float] | Frequencies, ids: array[int], norms: array[float]
) -> array[float]:
    """Return BM25F impacts from term frequencies and precomputed length terms (bm25() of whoosh.scoring)."""
    k = K1 + 1
    return array("f", [idf * ((tf * k) / (tf + norms[d])) for tf, d in zip(tfs, ids, strict=True)])


def compact(tfs: list[float]) -> Frequencies:
    """Return term frequencies in one byte each when they are small whole numbers (as they always are here)."""
    try:
        small = array("B", map(int, tfs))
    except (OverflowError, ValueError):
        return array("f", tfs)
    return small if sum(small) == sum(tfs) else array("f", tfs)  # weights are positive: truncation shows


@dataclass(slots=True)
class WarmState:
    """What the background warm-up of a generation has done so far."""

    done: bool = False
    terms: int = 0
    postings: int = 0
    reused: int = 0
    loaded: bool = False  # from the generation's warm file
    seconds: float = 0.0
    stopped: str = ""


class OpenIndex:
    """One published generation, opened read-only, with its vocabulary and a cache of term impacts."""

    def __init__(
        self, store: IndexStore, name: str, meta: IndexMeta, synonyms: SynonymTable, *, warmable: bool = False
    ) -> None:
        self.name = name
        self.meta = meta
        self.version = f"index:{name}"
        self.closed = False
        self._store = store
        self._synonyms = synonyms
        self._index = store.open(name)
        self._lock = threading.RLock()  # a Whoosh searcher is not meant to be shared between threads
        self._vocabulary: Vocabulary | None = None
        self._vocabulary_lock = threading.Lock()
        self._cache: OrderedDict[Key, Postings] = OrderedDict()
        self._tfs: dict[Key, Frequencies] = {}  # term frequencies of the cached single words, to re-score them later
        self._cached = 0
        self._keys: dict[int, str] = {}  # document number -> key, filled as queries meet documents
        self._norms: dict[str, array[float]] = {}  # set by the warm-up; reads without them ask Whoosh per document
        self.lengths: dict[str, dict[Segment, array[int]]] = {}  # per field: kept for the next generation's warm-up
        self.reads = 0  # posting lists queries had to read from disk: what the warm-up is there to avoid
        self.warm = WarmState()
        self.warmer: object | None = None  # the helpdesk.search.warmup.Warmer of this generation, once started
        #: Set by the warm-up while it has the previous generation's lists: (searcher, key) -> (postings, term
        #: frequencies) rescored for this generation, or None. Much cheaper than a read from disk.
        self.rescore: Callable[[object, Key], tuple[Postings, Frequencies] | None] | None = None
        self.directory = store.root / name
        self.warmed = threading.Event()
        self._serving = 0
        self._serving_lock = threading.Lock()
        self._warm_searcher = None
        self._layout: list[tuple[Segment, int, frozenset[int]]] | None = None
        try:
            self._searcher = self._index.searcher(weighting=WEIGHTING)
            # The warm-up's own searcher (own file handles), opened now: files damaged later would otherwise
            # fail in the warm-up thread, where Whoosh leaks the handle it had just opened.
            self._warm_searcher = self._index.searcher(weighting=WEIGHTING) if warmable else None
            self._reader = self._searcher.reader()
            found = self._searcher.doc_count()
            # Touch the term dictionary and the stored fields so that damaged files fail here, not mid-query.
            for field in TEXT_FIELDS:
                list(islice(self._reader.lexicon(field), 3))
            if found:
                self._searcher.stored_fields(0)
        except Exception as exc:
            self.close()
            raise IndexUnusable(f"index generation {name} is unreadable or corrupt: {exc!r}") from None
        if found != meta.documents:
            self.close()
            raise IndexUnusable(f"index generation {name} holds {found} documents, its metadata says {meta.documents}")
        self.documents = found

    def vocabulary(self) -> Vocabulary:
        """Return the words of the generation with the number of articles using them (read once)."""
        if self._vocabulary is None:
            with self._vocabulary_lock:  # the warm-up and a query may ask at once
                if self._vocabulary is None:
                    self._vocabulary = Vocabulary(self._store.read_words(self.name), self._synonyms.vocabulary)
        return self._vocabulary

    def known_stem(self, word: str) -> bool:
        """Tell whether the stem of `word` is indexed in any searched field."""
        term = stem(word)
        with self._lock:
            return any((field, term) in self._reader for field in TEXT_FIELDS)

    def _postings(self, field: str, terms: tuple[str, ...]) -> Postings:
        key = (field, terms)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        tfs = None
        if len(terms) == 1:
            found, tfs = self._read(field, terms[0])
        else:  # a phrase: every word in the same field
            found = intersect([self._postings(field, (t,)) for t in terms])
        self._cache[key] = found
        if tfs is not None:
            self._tfs[key] = tfs
        self._cached += len(found[0])
        while self._cached > CACHE_POSTINGS and len(self._cache) > 1:
            old, (ids, _) = self._cache.popitem(last=False)
            self._tfs.pop(old, None)
            self._cached -= len(ids)
        return found

    def _read(self, field: str, term: str) -> tuple[Postings, Frequencies | None]:
        """Read a posting list with each document's BM25F impact, as Whoosh itself would score it."""
        if (field, term) not in self._reader:  # a look-up in the term dictionary: no posting list to read
            return EMPTY, None
        rescore = self.rescore
        if rescore is not None:
            again = rescore(self._searcher, (field, (term,)))
            if again is not None:
                return again
        self.reads += 1
        norms = self._norms.get(field)
        if norms is not None:  # the warm-up has the length terms: no Whoosh look-up per document
            found = read_term(self._searcher, field, term, norms)
            return ((found[0], found[1]), found[2]) if found is not None else (EMPTY, None)
        matcher = self._reader.postings(field, term)
        scorer = WEIGHTING.scorer(self._searcher, field, term)
        ids, impacts, tfs = array("i"), array("f"), []
        while matcher.is_active():
            ids.append(matcher.id())
            impacts.append(scorer.score(matcher))
            tfs.append(matcher.weight())
            matcher.next()
        return (ids, impacts), compact(tfs)

    # --- for the warm-up (helpdesk.search.warmup), which reads with a searcher of its own ---

    def warm_searcher(self) -> Searcher:
        """Hand over the warm-up's searcher, with file handles of its own (the caller closes it when done)."""
        with self._lock:
            searcher, self._warm_searcher = self._warm_searcher, None
        if searcher is None:
            raise IndexUnusable(f"index generation {self.name} was not opened for a warm-up, or was closed")
        return searcher

    def set_norms(self, field: str, norms: array[float], lengths: dict[Segment, array[int]]) -> None:
        """Make query-time reads of `field` score from precomputed length terms."""
        self.lengths[field] = lengths
        self._norms[field] = norms

    def norms(self, field: str) -> array[float]:
        """Return the length terms of a field (set by `set_norms`)."""
        return self._norms[field]

    def cached(self, key: Key) -> Postings | None:
        """Return a cached posting list without marking it used."""
        with self._lock:
            return self._cache.get(key)

    def add_warm(self, key: Key, found: Postings, tfs: Frequencies | None) -> bool:
        """Cache a posting list as least recently used, so that it never pushes out what queries read; False if
        the cache has no room left or the generation was closed."""
        with self._lock:
            if self.closed or self._cached + len(found[0]) > CACHE_POSTINGS:
                return False
            if key not in self._cache:
                self._cache[key] = found
                self._cache.move_to_end(key, last=False)
                self._cached += len(found[0])
                if tfs is not None:
                    self._tfs[key] = tfs
            return True

    def snapshot(self) -> list[tuple[Key, Postings, Frequencies | None]]:
        """Return the cached posting lists, most recently used first (the arrays are shared, never changed)."""
        with self._lock:
            return [(key, found, self._tfs.get(key)) for key, found in reversed(self._cache.items())]

    def layout(self) -> list[tuple[Segment, int, frozenset[int]]]:
        """Return each segment with its first document number and its deleted documents (numbered globally)."""
        if self._layout is None:  # a generation never changes: worked out once (about 10 ms at 10,000 articles)
            with self._lock:
                self._layout = [
                    (
                        (leaf.segment().segment_id(), leaf.doc_count_all()),
                        base,
                        frozenset(base + d for d in range(leaf.doc_count_all()) if leaf.is_deleted(d))
                        if leaf.has_deletions()
                        else frozenset(),
                    )
                    for leaf, base in self._reader.leaf_readers()
                ]
        return self._layout

    @property
    def busy(self) -> bool:
        """Tell whether a query is being answered from this generation right now."""
        return self._serving > 0

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Mark a query in progress: the warm-up steps aside for it."""
        with self._serving_lock:
            self._serving += 1
        try:
            yield
        finally:
            with self._serving_lock:
                self._serving -= 1

    def run(self, plan: QueryPlan, limit: int, floor_share: float = 0.0, *, hybrid: bool = False) -> Ranked:
        """Return the matching documents, best first (`hybrid`: weighted to be fused with the semantic side)."""
        with self._lock:
            if self.closed:
                raise IndexUnusable(f"index generation {self.name} was closed")
            total, top = rank(plan, self._postings, limit, floor_share, hybrid=hybrid)
            # A generation never changes: each document's key is read from the stored fields once, not per query
            # (50 candidates a query made the stored-field reads a tenth of its lexical cost).
            keys = self._keys
            for d, _, _ in top:
                if d not in keys:
                    keys[d] = self._searcher.stored_fields(d)["key"]
            return total, [(keys[d], score, share) for d, score, share in top]

    def stored_keys(self) -> list[str]:
        """Return the key of every document (reads all stored fields: for checks, not for queries)."""
        with self._lock:
            return [fields["key"] for fields in self._searcher.all_stored_fields()]

    def close(self) -> None:
        """Release the files of the generation."""
        with self._lock:
            self.closed = True
            self._cache.clear()
            self._tfs.clear()
            self._cached = 0
            for searcher in (getattr(self, "_searcher", None), self._warm_searcher):
                if searcher is not None:
                    searcher.close()
            self._warm_searcher = None
            self._index.close()


class FallbackIndex:
    """Plain term matching over the library in memory, used while the index is missing or broken."""

    def __init__(self, library: ArticleLibrary) -> None:
        self.version = f"fallback:{library.fingerprint}"
        self.fingerprint = library.fingerprint
        self.keys: list[str] = []
        postings: dict[tuple[str, str], dict[int, int]] = {}
        for article in library.articles.values():
            for doc in article_documents(article):
                number = len(self.keys)
                self.keys.append(doc["key"])
                for field in TEXT_FIELDS:
                    for term, freq in Counter(stems(doc.get(field, ""))).items():
                        postings.setdefault((field, term), {})[number] = freq
        # Saturated term frequency times idf: enough to rank while the real index is rebuilt.
        n = max(len(self.keys), 1)
        self._postings: dict[tuple[str, str], Postings] = {}
        for key, docs in postings.items():
            idf = math.log(1.0 + (n - len(docs) + 0.5) / (len(docs) + 0.5))
            ordered = sorted(docs)
            self._postings[key] = (
                array("i", ordered),
                array("f", (idf * 2.2 * docs[d] / (docs[d] + 1.2) for d in ordered)),
            )
        self.vocabulary = Vocabulary(count_words(library.articles.values()), ())

    def _lookup(self, field: str, terms: tuple[str, ...]) -> Postings:
        if len(terms) == 1:
            return self._postings.get((field, terms[0]), EMPTY)
        return intersect([self._postings.get((field, t), EMPTY) for t in terms])

    def run(self, plan: QueryPlan, limit: int, floor_share: float = 0.0) -> Ranked:
        """Return the matching documents, best first."""
        total, top = rank(plan, self._lookup, limit, floor_share)
        return total, [(self.keys[d], score, share) for d, score, share in top]
