"""Answering queries: from an opened index generation, or from memory while no index is usable."""

from __future__ import annotations

import math
import threading
from array import array
from collections import Counter, OrderedDict
from itertools import islice

from whoosh import scoring

from helpdesk.kb.library import ArticleLibrary
from helpdesk.search.analysis import stem, stems
from helpdesk.search.documents import TEXT_FIELDS, article_documents, count_words
from helpdesk.search.index import IndexMeta, IndexStore, IndexUnusable
from helpdesk.search.query import QueryPlan
from helpdesk.search.scoring import Postings, intersect, rank
from helpdesk.search.spelling import Vocabulary
from helpdesk.search.synonyms import SynonymTable

Ranked = tuple[int, list[tuple[str, float]]]  # (number of matching documents, [(document key, score)] best first)
#: Impacts kept in memory per generation, in postings (8 bytes each): common terms are read from disk once.
CACHE_POSTINGS = 4_000_000
_EMPTY: Postings = (array("i"), array("f"))


class _BM25(scoring.BM25F):
    """BM25F with the usual BM25 idf, which separates rare from common words more than Whoosh's log(N/(n+1))+1."""

    def idf(self, searcher: object, fieldname: str, text: str) -> float:  # type: ignore[override]
        n = searcher.doc_frequency(fieldname, text)  # type: ignore[attr-defined]
        total = searcher.doc_count_all()  # type: ignore[attr-defined]
        return math.log(1.0 + (total - n + 0.5) / (n + 0.5))


#: Headings and titles are short: their length says little, so it is normalised less than an answer's.
WEIGHTING = _BM25(B=0.75, K1=1.2, topic_B=0.3, question_B=0.3)


class OpenIndex:
    """One published generation, opened read-only, with its vocabulary and a cache of term impacts."""

    def __init__(self, store: IndexStore, name: str, meta: IndexMeta, synonyms: SynonymTable) -> None:
        self.name = name
        self.meta = meta
        self.version = f"index:{name}"
        self.closed = False
        self._store = store
        self._synonyms = synonyms
        self._index = store.open(name)
        self._lock = threading.RLock()  # a Whoosh searcher is not meant to be shared between threads
        self._vocabulary: Vocabulary | None = None
        self._cache: OrderedDict[tuple[str, tuple[str, ...]], Postings] = OrderedDict()
        self._cached = 0
        try:
            self._searcher = self._index.searcher(weighting=WEIGHTING)
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
        if len(terms) == 1:
            found = self._read(field, terms[0])
        else:  # a phrase: every word in the same field
            found = intersect([self._postings(field, (t,)) for t in terms])
        self._cache[key] = found
        self._cached += len(found[0])
        while self._cached > CACHE_POSTINGS and len(self._cache) > 1:
            _, (ids, _) = self._cache.popitem(last=False)
            self._cached -= len(ids)
        return found

    def _read(self, field: str, term: str) -> Postings:
        """Read a posting list with each document's BM25F impact, as Whoosh itself would score it."""
        if (field, term) not in self._reader:
            return _EMPTY
        matcher = self._reader.postings(field, term)
        scorer = WEIGHTING.scorer(self._searcher, field, term)
        ids, impacts = array("i"), array("f")
        while matcher.is_active():
            ids.append(matcher.id())
            impacts.append(scorer.score(matcher))
            matcher.next()
        return ids, impacts

    def run(self, plan: QueryPlan, limit: int) -> Ranked:
        """Return the matching documents, best first."""
        with self._lock:
            if self.closed:
                raise IndexUnusable(f"index generation {self.name} was closed")
            total, top = rank(plan, self._postings, limit)
            return total, [(self._searcher.stored_fields(d)["key"], score) for d, score in top]

    def stored_keys(self) -> list[str]:
        """Return the key of every document (reads all stored fields: for checks, not for queries)."""
        with self._lock:
            return [fields["key"] for fields in self._searcher.all_stored_fields()]

    def close(self) -> None:
        """Release the files of the generation."""
        with self._lock:
            self.closed = True
            self._cache.clear()
            searcher = getattr(self, "_searcher", None)
            if searcher is not None:
                searcher.close()
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
            self._postings[key] = (array("i", ordered), array("f", (idf * 2.2 * docs[d] / (docs[d] + 1.2)
                                                                    for d in ordered)))
        self.vocabulary = Vocabulary(count_words(library.articles.values()), ())

    def _lookup(self, field: str, terms: tuple[str, ...]) -> Postings:
        if len(terms) == 1:
            return self._postings.get((field, terms[0]), _EMPTY)
        return intersect([self._postings.get((field, t), _EMPTY) for t in terms])

    def run(self, plan: QueryPlan, limit: int) -> Ranked:
        """Return the matching documents, best first."""
        total, top = rank(plan, self._lookup, limit)
        return total, [(self.keys[d], score) for d, score in top]
