"""The semantic side of a generation: one embedding per search text, stored beside the index, memory-mapped."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from helpdesk.kb.articles import Article
from helpdesk.kb.library import ArticleLibrary
from helpdesk.search.cache import LRUCache
from helpdesk.search.documents import article_documents
from helpdesk.search.model.encoder import Encoder

log = logging.getLogger(__name__)

VECTORS = "vectors.npy"  # float32 rows, unit length, one per embedded text
VECTORS_META = "vectors.json"  # {"model", "keys": document key per row, "hashes": text hash per row}
Progress = Callable[[int, int], None]
PHRASING = "phrasing"
ROWS_MEMO = 50_000  # articles whose rows a process remembers (about 1 kB each)


def embedded_texts(article: Article) -> Iterator[tuple[str, str, str]]:
    """Yield (document key, kind, text to embed) of an article: title, question and answer, or the article's
    own text."""
    for doc in article_documents(article):
        if "question" in doc:
            # The title says what a question is about ("How do I reset it?" in an article on one system): on the
            # devset it raised MRR@10 of the blend from 0.892 to 0.911, and on both halves of a 2-fold split.
            yield doc["key"], "document", f"{article.title}: {doc['question']}\n{doc['answer']}"
        else:
            yield doc["key"], "document", " ".join(doc[f] for f in ("topic", "overview", "answer") if doc.get(f))
        # Learned phrasings (a `phrasings` field, one per line): each is one more row of its document, so a
        # query close to any way people asked finds the question; the document scores its best row.
        for phrasing in str(doc.get("phrasings", "")).splitlines():
            if phrasing.strip():
                yield doc["key"], PHRASING, phrasing.strip()


def text_hash(model_id: str, text: str) -> str:
    """Return the cache key of an embedding: the model and the exact text embedded."""
    return hashlib.sha256(f"{model_id}\n{text}".encode()).hexdigest()[:24]


class VectorSet:
    """The embeddings of one generation, memory-mapped read-only (so every worker shares the same pages)."""

    def __init__(self, directory: Path) -> None:
        meta = json.loads((directory / VECTORS_META).read_text(encoding="utf-8"))
        self.model: str = meta["model"]
        self.row_keys: list[str] = list(meta["keys"])
        self.hashes: list[str] = list(meta["hashes"])
        self.kinds: list[str] = list(meta.get("kinds") or ["document"] * len(self.row_keys))
        self.matrix = np.load(directory / VECTORS, mmap_mode="r")
        if self.matrix.shape[0] != len(self.row_keys):
            raise ValueError(f"{VECTORS} holds {self.matrix.shape[0]} rows, its metadata {len(self.row_keys)}")
        self.keys = list(dict.fromkeys(self.row_keys))  # documents, in first-row order
        number = {key: i for i, key in enumerate(self.keys)}
        self._row_doc = np.fromiter((number[k] for k in self.row_keys), dtype=np.int64, count=len(self.row_keys))
        self._multi = len(self.keys) != len(self.row_keys)
        self.position = number
        # write_vectors keeps a document's rows together: the best row per document is then one reduceat over
        # run starts (vectorised), where np.maximum.at (one scattered update per row) is several times slower.
        starts = np.flatnonzero(np.diff(self._row_doc, prepend=-1) != 0)
        self._starts = starts if len(starts) == len(self.keys) else None

    def phrasing_matched(self, key: str, query: np.ndarray) -> bool:
        """Tell whether the best row of document `key` for this query is a learned phrasing (for --explain)."""
        rows = [i for i, k in enumerate(self.row_keys) if k == key]
        if not rows:
            return False
        best = max(rows, key=lambda i: float(self.matrix[i] @ query))
        return self.kinds[best] == PHRASING

    def cached(self) -> dict[str, np.ndarray]:
        """Return text hash -> vector, to reuse when the next generation is embedded."""
        return {h: self.matrix[i] for i, h in enumerate(self.hashes)}

    def similarities(self, query: np.ndarray) -> np.ndarray:
        """Return each document's cosine similarity to the query (its best row), in `keys` order."""
        sims = self.matrix @ query
        if not self._multi:
            return sims
        if self._starts is not None:
            return np.maximum.reduceat(sims, self._starts)
        best = np.full(len(self.keys), -np.inf, dtype=np.float32)
        np.maximum.at(best, self._row_doc, sims)
        return best


def open_vectors(directory: Path, model_id: str) -> VectorSet | None:
    """Return the generation's embeddings made by `model_id`, or None if there are none (or of another model)."""
    try:
        found = VectorSet(directory)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("search index %s: unreadable embeddings (%s); they will be made again", directory.name, exc)
        return None
    return found if found.model == model_id else None


def _article_rows(article: Article, model_id: str) -> tuple[tuple[str, str, str], ...]:
    """Return (document key, kind, text hash) per embedded text of an article, remembered per process."""
    key = (model_id, article.slug, article.digest, article.phrasings, tuple(q.phrasings for q in article.questions))
    found = _rows.get(key)
    if found is None:
        found = tuple((doc, kind, text_hash(model_id, text)) for doc, kind, text in embedded_texts(article))
        _rows.put(key, found)
    return found


#: An unchanged article's rows are not recomputed (splitting and hashing every text of 1,000 articles costs more
#: than the one re-embedded answer of a re-index); the key holds everything the texts are made of.
_rows: LRUCache[tuple[object, ...], tuple[tuple[str, str, str], ...]] = LRUCache(ROWS_MEMO)


def write_vectors(directory: Path, library: ArticleLibrary, encoder: Encoder, previous: VectorSet | None,
                  progress: Progress | None = None) -> int:
    """Embed every search text of `library` into `directory`, reusing `previous` vectors of unchanged texts;
    return how many texts were embedded afresh."""
    articles = list(library.articles.values())
    per_article = [_article_rows(article, encoder.model_id) for article in articles]
    rows = [row for found in per_article for row in found]
    hashes = [h for _, _, h in rows]
    old_row = ({h: i for i, h in enumerate(previous.hashes)}
               if previous is not None and previous.model == encoder.model_id else {})
    missing = set(h for h in hashes if h not in old_row)
    matrix = np.empty((len(rows), encoder.dim), dtype=np.float32)
    kept = [i for i, h in enumerate(hashes) if h in old_row]
    if kept and previous is not None:  # one gather from the old generation's mapped matrix, no loop per row
        matrix[kept] = previous.matrix[[old_row[hashes[i]] for i in kept]]
    if missing:
        # Only the articles with a new text are split into texts again.
        text_of = {text_hash(encoder.model_id, text): text
                   for article, found in zip(articles, per_article, strict=True)
                   if any(h in missing for _, _, h in found)
                   for _, _, text in embedded_texts(article)}
        order = sorted(missing)
        fresh = encoder.embed([text_of[h] for h in order], progress=progress)
        number = {h: i for i, h in enumerate(order)}
        todo = [i for i, h in enumerate(hashes) if h in number]
        matrix[todo] = fresh[[number[hashes[i]] for i in todo]]
    tmp = directory / f".{VECTORS}.{os.getpid()}.{uuid.uuid4().hex[:6]}.npy"
    np.save(tmp, matrix)
    meta = {"model": encoder.model_id, "keys": [key for key, _, _ in rows], "kinds": [kind for _, kind, _ in rows],
            "hashes": hashes}
    meta_tmp = directory / f".{VECTORS_META}.{os.getpid()}.{uuid.uuid4().hex[:6]}"
    meta_tmp.write_text(json.dumps(meta), encoding="utf-8")
    # The matrix first, the metadata last: a reader opens the pair only once the metadata is there.
    os.replace(tmp, directory / VECTORS)
    os.replace(meta_tmp, directory / VECTORS_META)
    return len(missing)
