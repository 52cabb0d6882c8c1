"""The search engine: keeps the index in step with the library and answers queries, cached, without raising."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from helpdesk.kb.library import ArticleLibrary
from helpdesk.search.cache import LRUCache
from helpdesk.search.documents import split_key
from helpdesk.search.fusion import CANDIDATES, LEX_SHARE, Candidate, fuse
from helpdesk.search.index import IndexStore
from helpdesk.search.maintenance import IndexMaintainer
from helpdesk.search.model.encoder import load_encoder
from helpdesk.search.query import QueryPlan, plan_query
from helpdesk.search.reader import FallbackIndex, OpenIndex, WarmState
from helpdesk.search.semantic import SemanticSide, meaning_text
from helpdesk.search.snippets import make_snippet
from helpdesk.search.synonyms import SynonymTable

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 200
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: a question of an article (or the article as a whole), with a highlighted snippet."""

    article: str
    question_id: str | None
    title: str
    question: str | None
    url: str
    snippet: str
    score: float

    def to_dict(self) -> dict[str, object]:
        """Return the hit as the JSON object of the search API."""
        return {
            "article": self.article,
            "question_id": self.question_id,
            "title": self.title,
            "question": self.question,
            "url": self.url,
            "snippet": self.snippet,
            "score": self.score,
        }


@dataclass(frozen=True, slots=True)
class SearchResponse:
    """The answer to one query: best hits first, the number of matches and a spelling suggestion."""

    query: str
    total: int
    suggestion: str | None
    results: list[SearchHit]

    def to_dict(self) -> dict[str, object]:
        """Return the response as the JSON object of the search API."""
        return {
            "query": self.query,
            "total": self.total,
            "suggestion": self.suggestion,
            "results": [hit.to_dict() for hit in self.results],
        }


def normalize_query(text: str) -> str:
    """Return the query lowercased, control characters and runs of whitespace made single spaces, capped."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    head = text[: MAX_QUERY_CHARS * 4]  # bound the work before whitespace is collapsed
    cleaned = "".join(ch if ch.isprintable() else " " for ch in head)
    return " ".join(cleaned.lower().split())[:MAX_QUERY_CHARS].strip()


class SearchEngine:
    """Search over the knowledge base; one instance per process, safe to share between threads."""

    def __init__(
        self,
        index_dir: Path,
        library: Callable[[], ArticleLibrary],
        *,
        cache_size: int = 2048,
        embedding_model: Path | None = None,
    ) -> None:
        self.synonyms = SynonymTable()
        self._library = library
        encoder = load_encoder(embedding_model)  # None (logged) when the folder is missing: search stays lexical
        self.semantic = SemanticSide(encoder, cache_size)  # query embeddings are cached with the results
        self._maintainer = IndexMaintainer(IndexStore(Path(index_dir), encoder), library, self.synonyms)
        self._cache: LRUCache[tuple[str, int, bool, str], SearchResponse] = LRUCache(cache_size)
        self._fallback: FallbackIndex | None = None

    def ensure_index(self) -> None:
        """Make the index match the library: build it if unusable, re-index changed articles otherwise."""
        self._maintainer.ensure(wait=True)

    def rebuild(
        self,
        progress: Callable[[int, int], None] | None = None,
        embed_progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Rebuild the whole index atomically and return its number of documents."""
        return self._maintainer.rebuild(progress, embed_progress)

    def check(self) -> list[str]:
        """Return the problems of the index in words; an empty list means healthy."""
        return self._maintainer.check()

    def close(self) -> None:
        """Finish background indexing and release the index files (tests, shutdown); search reopens them."""
        self._maintainer.close()
        getattr(self._library, "close", lambda: None)()  # the learned phrasings' reader (helpdesk.search.phrasings)
        self._cache.clear()
        self.semantic.clear()

    def warm_up(self, timeout: float | None = 0.0) -> dict[str, object]:
        """Open the published generation, which starts its warm-up in the background, and wait up to `timeout`
        seconds (None: until it ends) for the warm-up; return its progress. Searching never waits for it: a worker
        may call this once it starts, so that its first users find the common words in memory."""
        source = self._maintainer.current()
        if source is None:
            return {**asdict(WarmState(stopped="no index")), "query_reads": 0}
        if timeout is None or timeout > 0:
            source.warmed.wait(timeout)
        return {**asdict(source.warm), "seconds": round(source.warm.seconds, 3), "query_reads": source.reads}

    def status(self) -> dict[str, object]:
        """Return {"ok", "documents", "detail", "ranking", "model"} for a health check; cheap enough per request."""
        model = self.semantic.model_id
        try:
            source = self._maintainer.current()
        except Exception as exc:  # the health check must answer whatever happened
            return {
                "ok": False,
                "documents": 0,
                "detail": f"search index unavailable: {exc}",
                "ranking": "lexical",
                "model": model,
            }
        if source is None:
            return {
                "ok": False,
                "documents": 0,
                "ranking": "lexical",
                "model": model,
                "detail": "search index unavailable; answering from the in-memory fallback while it is rebuilt",
            }
        stale = " (re-indexing changed articles)" if self._maintainer.stale(source) else ""
        warming = "" if source.warm.done else " (warming up)"
        if model is None:
            semantic = "; lexical only: no embedding model"
        elif self.semantic.vectors(source) is None:
            semantic = "; lexical until its embeddings are built"
        else:
            semantic = ""
        detail = f"index {source.name}: {source.documents} documents{stale}{warming}{semantic}"
        return {
            "ok": True,
            "documents": source.documents,
            "ranking": "lexical" if semantic else "hybrid",
            "model": model,
            "detail": detail,
        }

    def search(self, query: str, *, limit: int = 10, typeahead: bool = False) -> SearchResponse:
        """Return the best hits for `query`; never raises, whatever the input or the state of the index."""
        text = ""
        try:
            text = normalize_query(query)
            limit = max(1, min(int(limit), MAX_LIMIT))
            source = self._source()
            key = (text, limit, bool(typeahead), self._version(source))
            cached = self._cache.get(key)
            if cached is not None:
                return cached
            try:
                response = self._respond(source, text, limit, bool(typeahead))
            except Exception:
                if not isinstance(source, OpenIndex):
                    raise
                if not source.closed:  # closed means replaced by a newer generation mid-query: no damage
                    log.exception("search index failed on %r; answering from memory and rebuilding", text)
                    self._maintainer.mark_broken(source)
                source = self._source()
                key = (text, limit, bool(typeahead), self._version(source))
                response = self._respond(source, text, limit, bool(typeahead))
            self._cache.put(key, response)
            return response
        except Exception:
            log.exception("search failed on %r", text)
            return SearchResponse(text, 0, None, [])

    def explain(self, query: str, *, limit: int = 10) -> list[dict[str, object]]:
        """Return, per hit, its lexical and semantic ranks and scores (uncached; for `helpdesk search --explain`)."""
        text = normalize_query(query)
        source = self._source()
        plan, total, candidates = self._run(source, text, typeahead=False)
        vectors, vector = self.semantic.vectors(source), self.semantic.query_vector(meaning_text(text, plan))
        out = []
        for cand in candidates[:limit]:
            phrasing = vectors is not None and vector is not None and vectors.phrasing_matched(cand.key, vector)
            out.append(
                {
                    "key": cand.key,
                    "fused": cand.fused,
                    "lexical_rank": cand.lex_rank,
                    "lexical_score": cand.lex_score,
                    "semantic_rank": cand.sem_rank,
                    "semantic_score": cand.sem_score,
                    "relevant": cand.relevant,
                    "confident": cand.confident,
                    "learned_phrasing": bool(phrasing),
                }
            )
        return out

    def _version(self, source: OpenIndex | FallbackIndex) -> str:
        """Name what answers come from: the generation, and its embeddings once they are there."""
        vectors = self.semantic.vectors(source)
        return source.version if vectors is None else f"{source.version}+{vectors.model}"

    def _source(self) -> OpenIndex | FallbackIndex:
        opened = self._maintainer.current()
        if opened is not None:
            if self._cache.tag != opened.version:
                self._cache.clear(opened.version)  # a new generation: every cached answer may have changed
            return opened
        return self._fallback_index()

    def _fallback_index(self) -> FallbackIndex:
        library = self._library()
        fallback = self._fallback
        if fallback is None or fallback.fingerprint != library.fingerprint:
            fallback = self._fallback = FallbackIndex(library)
        return fallback

    def _run(
        self, source: OpenIndex | FallbackIndex, text: str, *, typeahead: bool
    ) -> tuple[QueryPlan, int, list[Candidate]]:
        """Return the query plan, the number of relevant documents and the fused candidates, best first."""
        vectors = self.semantic.vectors(source)  # first: with them, the lexical side is weighted for fusion
        if isinstance(source, OpenIndex):
            with source.serving():  # the generation's warm-up steps aside meanwhile
                plan = plan_query(text, self.synonyms, source.vocabulary(), source.known_stem, typeahead=typeahead)
                hybrid = vectors is not None
                total, lexical = source.run(plan, CANDIDATES, LEX_SHARE, hybrid=hybrid) if plan.concepts else (0, [])
        else:
            plan = plan_query(text, self.synonyms, source.vocabulary, typeahead=typeahead)
            total, lexical = source.run(plan, CANDIDATES, LEX_SHARE) if plan.concepts else (0, [])
        vector = self.semantic.query_vector(meaning_text(text, plan)) if vectors is not None and plan.concepts else None
        scores, shares = [(k, s) for k, s, _ in lexical], {k: share for k, _, share in lexical}
        if vectors is None or vector is None:
            candidates = fuse(scores, None, shares=shares)
        else:
            semantic, similarity, close = self.semantic.rank(vectors, vector, [k for k, _ in scores])
            candidates = fuse(scores, semantic, similarity, shares=shares)
            total = max(total, close)
        relevant = sum(1 for c in candidates if c.relevant)
        return plan, max(total, relevant) if relevant else 0, candidates

    def _respond(self, source: OpenIndex | FallbackIndex, text: str, limit: int, typeahead: bool) -> SearchResponse:
        started = time.perf_counter()
        plan, total, candidates = self._run(source, text, typeahead=typeahead)
        if not plan.concepts:
            return SearchResponse(text, 0, plan.suggestion, [])
        library = self._library()
        hits: list[SearchHit] = []
        for cand in candidates:
            if len(hits) == limit:
                break
            if not (cand.confident if typeahead else cand.relevant):
                continue  # below the relevance floor: a shared common word is not an answer
            hit = _hit(library, cand.key, cand.fused, plan.highlight)
            if hit is not None:  # a document of an article removed a moment ago
                hits.append(hit)
        log.debug("search %r: %d matches in %.1f ms", text, total, (time.perf_counter() - started) * 1000)
        return SearchResponse(text, total, plan.suggestion, hits)


def _hit(library: ArticleLibrary, key: str, score: float, highlight: frozenset[str]) -> SearchHit | None:
    slug, question_id = split_key(key)
    article = library.articles.get(slug)
    if article is None:
        return None
    if question_id is None:
        text = " ".join(p for p in (article.summary, article.intro_text) if p) or article.title
        return SearchHit(slug, None, article.title, None, article.url, make_snippet(text, highlight), round(score, 4))
    question = article.question(question_id)
    if question is None:
        return None
    return SearchHit(
        slug,
        question_id,
        article.title,
        question.text,
        f"{article.url}#{question_id}",
        make_snippet(question.answer_text or question.text, highlight),
        round(score, 4),
    )
