"""Answering queries: from an opened index generation, or from memory while no index is usable."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from itertools import islice

from whoosh import query as wq
from whoosh import scoring

from helpdesk.kb.library import ArticleLibrary
from helpdesk.search.analysis import stem, stems
from helpdesk.search.documents import article_documents
from helpdesk.search.index import IndexMeta, IndexStore, IndexUnusable
from helpdesk.search.query import FIELD_BOOSTS, RERANK_DEPTH, QueryPlan, concept_queries, coordination
from helpdesk.search.spelling import Vocabulary
from helpdesk.search.synonyms import SynonymTable

Ranked = tuple[int, list[tuple[str, float]]]  # (number of matching documents, [(document key, score)] best first)
_STEM_FIELDS = ("title", "question", "answer", "overview")


class _BM25(scoring.BM25F):
    """BM25F with the usual BM25 idf, which separates rare from common words more than Whoosh's log(N/(n+1))+1."""

    def idf(self, searcher: object, fieldname: str, text: str) -> float:  # type: ignore[override]
        n = searcher.doc_frequency(fieldname, text)  # type: ignore[attr-defined]
        total = searcher.doc_count_all()  # type: ignore[attr-defined]
        return math.log(1.0 + (total - n + 0.5) / (n + 0.5))


WEIGHTING = _BM25(B=0.75, K1=1.2, title_B=0.3, question_B=0.3, tags_B=0.3)


class OpenIndex:
    """One published generation, opened read-only, with its vocabulary."""

    def __init__(self, store: IndexStore, name: str, meta: IndexMeta, synonyms: SynonymTable) -> None:
        self.name = name
        self.meta = meta
        self.version = f"index:{name}"
        self._synonyms = synonyms
        self._index = store.open(name)
        self._lock = threading.Lock()  # a Whoosh searcher is not meant to be shared between threads
        self._vocabulary: Vocabulary | None = None
        self.closed = False
        try:
            self._searcher = self._index.searcher(weighting=WEIGHTING)
            found = self._searcher.doc_count()
            # Touch the term dictionary and the stored fields so that damaged files fail here, not mid-query.
            list(islice(self._searcher.reader().lexicon("spell"), 3))
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
        """Return the words of the index with their document frequencies (read once per generation)."""
        if self._vocabulary is None:
            with self._lock:
                reader = self._searcher.reader()
                freq = {_text(t): info.doc_frequency() for t, info in reader.iter_field("spell")}
                self._vocabulary = Vocabulary(freq, self._synonyms.vocabulary)
        return self._vocabulary

    def known_stem(self, word: str) -> bool:
        """Tell whether the stem of `word` is indexed in any searched field."""
        term = stem(word)
        with self._lock:
            reader = self._searcher.reader()
            return any((field, term) in reader for field in _STEM_FIELDS)

    def run(self, plan: QueryPlan, limit: int) -> Ranked:
        """Return the matching documents, best first."""
        concepts = concept_queries(plan)
        if not concepts:
            return 0, []
        query = concepts[0] if len(concepts) == 1 else wq.Or(concepts)
        depth = limit if len(concepts) == 1 else max(limit, RERANK_DEPTH)
        with self._lock:
            if self.closed:
                raise IndexUnusable(f"index generation {self.name} was closed")
            results = self._searcher.search(query, limit=depth)
            found = [(hit.docnum, hit["key"], float(hit.score or 0.0)) for hit in results]
            total = len(results)
            matched = self._matched(concepts, sorted(d for d, _, _ in found)) if len(concepts) > 1 else {}
        scored = [(score * coordination(matched.get(d, 1), len(concepts)), i, key)
                  for i, (d, key, score) in enumerate(found)]
        scored.sort(key=lambda item: (-item[0], item[1]))
        return total, [(key, score) for score, _, key in scored[:limit]]

    def _matched(self, concepts: list[wq.Query], docnums: list[int]) -> dict[int, int]:
        """Count, for each document, how many concepts it matches (skipping through each posting list once)."""
        counts = dict.fromkeys(docnums, 0)
        for concept in concepts:
            matcher = concept.matcher(self._searcher)
            for docnum in docnums:
                if not matcher.is_active():
                    break
                if matcher.id() < docnum:
                    matcher.skip_to(docnum)
                if matcher.is_active() and matcher.id() == docnum:
                    counts[docnum] += 1
        return counts

    def stored_keys(self) -> Iterator[str]:
        """Yield the key of every document (reads all stored fields: for checks, not for queries)."""
        with self._lock:
            keys = [fields["key"] for fields in self._searcher.all_stored_fields()]
        yield from keys

    def close(self) -> None:
        """Release the files of the generation."""
        with self._lock:
            self.closed = True
            searcher = getattr(self, "_searcher", None)
            if searcher is not None:
                searcher.close()
            self._index.close()


def _text(term: bytes | str) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


class FallbackIndex:
    """Plain term matching over the library in memory, used while the index is missing or broken."""

    def __init__(self, library: ArticleLibrary) -> None:
        self.version = f"fallback:{library.fingerprint}"
        self.fingerprint = library.fingerprint
        self._docs: list[tuple[str, dict[str, frozenset[str]]]] = []
        for article in library.articles.values():
            for doc in article_documents(article):
                fields = {f: frozenset(stems(doc[f])) for f in FIELD_BOOSTS if doc.get(f)}
                self._docs.append((doc["key"], fields))

    def run(self, plan: QueryPlan, limit: int) -> Ranked:
        """Score each document by the field weights of the concepts it contains."""
        scored: list[tuple[float, int, str]] = []
        for order, (key, fields) in enumerate(self._docs):
            score = 0.0
            for concept in plan.concepts:
                best = 0.0
                for alt in concept.alternatives:
                    terms = alt.terms
                    for field, present in fields.items():
                        if terms and all(t in present for t in terms):
                            best = max(best, FIELD_BOOSTS[field] * alt.weight)
                        elif concept.prefix and any(t.startswith(concept.prefix) for t in present):
                            best = max(best, FIELD_BOOSTS[field] * 0.5)
                score += best
            if score > 0:
                scored.append((-score, order, key))
        scored.sort()
        return len(scored), [(key, -neg) for neg, _, key in scored[:limit]]
