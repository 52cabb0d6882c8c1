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
from helpdesk.search.documents import article_documents
from helpdesk.search.model.encoder import Encoder

log = logging.getLogger(__name__)

VECTORS = "vectors.npy"  # float32 rows, unit length, one per embedded text
VECTORS_META = "vectors.json"  # {"model", "keys": document key per row, "hashes": text hash per row}
Progress = Callable[[int, int], None]
PHRASING = "phrasing"


def embedded_texts(article: Article) -> Iterator[tuple[str, str, str]]:
    """Yield (document key, kind, text to embed) of an article: question + answer, or the article's own text."""
    for doc in article_documents(article):
        if "question" in doc:
            yield doc["key"], "document", f"{doc['question']}\n{doc['answer']}"
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
        best = np.full(len(self.keys), -1.0, dtype=np.float32)
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


def write_vectors(directory: Path, library: ArticleLibrary, encoder: Encoder, previous: VectorSet | None,
                  progress: Progress | None = None) -> int:
    """Embed every search text of `library` into `directory`, reusing `previous` vectors of unchanged texts;
    return how many texts were embedded afresh."""
    rows = [(key, kind, text) for article in library.articles.values() for key, kind, text in embedded_texts(article)]
    hashes = [text_hash(encoder.model_id, text) for _, _, text in rows]
    cache = previous.cached() if previous is not None and previous.model == encoder.model_id else {}
    missing = list(dict.fromkeys(h for h in hashes if h not in cache))
    if missing:
        text_of = dict(zip(hashes, (text for _, _, text in rows), strict=True))
        fresh = encoder.embed([text_of[h] for h in missing], progress=progress)
        cache = {**cache, **dict(zip(missing, fresh, strict=True))}
    matrix = np.zeros((len(rows), encoder.dim), dtype=np.float32)
    for i, h in enumerate(hashes):
        matrix[i] = cache[h]
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
