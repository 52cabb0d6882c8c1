"""The semantic side of a generation: one embedding per search text, stored beside the index, memory-mapped."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from helpdesk.kb.articles import Article
from helpdesk.search.cache import LRUCache
from helpdesk.search.documents import article_documents

log = logging.getLogger(__name__)

VECTORS = "vectors.npy"  # float32 rows, unit length, one per embedded text
VECTORS_META = "vectors.json"  # {"model", "keys": document key per row, "hashes": text hash per row}
#: Documents changed since the base was written: their rows, and the base documents they replace ("dropped").
DELTA, DELTA_META = "vectors-delta.npy", "vectors-delta.json"
PHRASING = "phrasing"
#: Embed a table row by row ("Safari - macOS: Yes; iOS / iPadOS: Yes."), not as a run of cells: on the devset
#: (bench/relevance.py --variants) MRR@10 0.928 -> 0.931, R@5 0.973 -> 0.982, syn MRR@10 0.858 -> 0.865.
READ_TABLES = True


def embedded_texts(article: Article) -> Iterator[tuple[str, str, str]]:
    """Yield (document key, kind, text to embed) of an article: title, question and answer, or the article's
    own text."""
    for doc in article_documents(article, read_tables=READ_TABLES):
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


class Part:
    """One matrix file and its metadata (the base of a generation, or its delta), memory-mapped read-only."""

    def __init__(self, directory: Path, matrix: str, meta: str) -> None:
        data = json.loads((directory / meta).read_text(encoding="utf-8"))
        self.model: str = data["model"]
        self.dropped: list[str] = list(data.get("dropped", ()))  # base documents a delta replaces or removes
        self.row_keys: list[str] = list(data["keys"])
        self.hashes: list[str] = list(data["hashes"])
        self.kinds: list[str] = list(data.get("kinds") or ["document"] * len(self.row_keys))
        self.matrix: np.ndarray = np.load(directory / matrix, mmap_mode="r")
        if self.matrix.shape[0] != len(self.row_keys):
            raise ValueError(f"{matrix} holds {self.matrix.shape[0]} rows, its metadata {len(self.row_keys)}")
        self.keys = list(dict.fromkeys(self.row_keys))  # documents, in first-row order
        self.position = {key: i for i, key in enumerate(self.keys)}
        row_doc = np.fromiter((self.position[k] for k in self.row_keys), dtype=np.int64, count=len(self.row_keys))
        self._multi = len(self.keys) != len(self.row_keys)
        # write_vectors keeps a document's rows together: the best row per document is then one reduceat over
        # run starts (vectorised), where np.maximum.at (one scattered update per row) is several times slower.
        starts = np.flatnonzero(np.diff(row_doc, prepend=-1) != 0)
        self._starts = starts if len(starts) == len(self.keys) else None
        self._row_doc = row_doc
        self._articles: dict[str, tuple[tuple[str, str, str], ...]] | None = None
        self._row_of: dict[str, int] | None = None

    def similarities(self, query: np.ndarray) -> np.ndarray:
        """Return each document's cosine similarity to the query (its best row), in `keys` order."""
        if not len(self.row_keys):
            return np.zeros(0, dtype=np.float32)
        sims: np.ndarray = self.matrix @ query
        if not self._multi:
            return sims
        if self._starts is not None:
            best_rows: np.ndarray = np.maximum.reduceat(sims, self._starts)
            return best_rows
        best = np.full(len(self.keys), -np.inf, dtype=np.float32)
        np.maximum.at(best, self._row_doc, sims)
        return best

    def articles(self) -> dict[str, tuple[tuple[str, str, str], ...]]:
        """Return article slug -> its (document key, kind, text hash) rows: what a delta compares against."""
        if self._articles is None:  # once per base and process: the base is reused until a new one is written
            found: dict[str, list[tuple[str, str, str]]] = {}
            for row in zip(self.row_keys, self.kinds, self.hashes, strict=True):
                found.setdefault(row[0].partition("#")[0], []).append(row)
            self._articles = {slug: tuple(rows) for slug, rows in found.items()}
        return self._articles

    def row_of(self) -> dict[str, int]:
        """Return text hash -> row."""
        if self._row_of is None:
            self._row_of = {h: i for i, h in enumerate(self.hashes)}
        return self._row_of


#: Parsed bases by file identity: a base file is never rewritten, only hard-linked into the next generation, so a
#: re-index with a delta reopens nothing but the delta (parsing 60,000 rows' metadata costs ~100 ms).
_parts: LRUCache[tuple[int, ...], Part] = LRUCache(2)  # the base in use and the one before


def _base(directory: Path) -> Part:
    meta, matrix = os.stat(directory / VECTORS_META), os.stat(directory / VECTORS)
    key = (meta.st_dev, meta.st_ino, meta.st_mtime_ns, matrix.st_ino, matrix.st_mtime_ns)
    found = _parts.get(key)
    if found is None:
        found = Part(directory, VECTORS, VECTORS_META)
        _parts.put(key, found)
    return found


class VectorSet:
    """The embeddings of one generation: a base matrix, and a small delta of the documents changed since."""

    def __init__(self, directory: Path) -> None:
        self.base = _base(directory)
        self.model = self.base.model
        self.delta = Part(directory, DELTA, DELTA_META) if (directory / DELTA_META).exists() else None
        if self.delta is None:
            self.keys, self.position, self._alive = self.base.keys, self.base.position, None
            return
        if self.delta.model != self.model:
            raise ValueError(f"{DELTA_META} was made by another model than {VECTORS_META}")
        gone = {*self.delta.dropped, *self.delta.keys}
        where = self.base.position
        self._alive = np.delete(np.arange(len(self.base.keys)), [where[k] for k in gone if k in where])
        self.keys = [self.base.keys[i] for i in self._alive.tolist()] + self.delta.keys
        self.position = {key: i for i, key in enumerate(self.keys)}

    def similarities(self, query: np.ndarray) -> np.ndarray:
        """Return each document's cosine similarity to the query (its best row), in `keys` order."""
        sims = self.base.similarities(query)
        if self.delta is None:
            return sims
        return np.concatenate((sims[self._alive], self.delta.similarities(query)))

    def _rows(self) -> list[tuple[Part, int]]:
        """Return (part, row) of every live row, in `keys` order."""
        if self.delta is None:
            return [(self.base, i) for i in range(len(self.base.row_keys))]
        gone = {*self.delta.dropped, *self.delta.keys}
        return [(self.base, i) for i, k in enumerate(self.base.row_keys) if k not in gone] + [
            (self.delta, i) for i in range(len(self.delta.row_keys))
        ]

    @property
    def row_keys(self) -> list[str]:
        """Return the document of each live row."""
        return [part.row_keys[i] for part, i in self._rows()]

    @property
    def hashes(self) -> list[str]:
        """Return the text hash of each live row."""
        return [part.hashes[i] for part, i in self._rows()]

    @property
    def kinds(self) -> list[str]:
        """Return the kind (document or phrasing) of each live row."""
        return [part.kinds[i] for part, i in self._rows()]

    @property
    def matrix(self) -> np.ndarray:
        """Return the live rows as one matrix (the mapped base itself when there is no delta)."""
        if self.delta is None:
            return self.base.matrix
        return np.stack([part.matrix[i] for part, i in self._rows()]) if self.keys else self.base.matrix[:0]

    def phrasing_matched(self, key: str, query: np.ndarray) -> bool:
        """Tell whether the best row of document `key` for this query is a learned phrasing (for --explain)."""
        rows = [(part, i) for part, i in self._rows() if part.row_keys[i] == key]
        if not rows:
            return False
        part, best = max(rows, key=lambda r: float(r[0].matrix[r[1]] @ query))
        return part.kinds[best] == PHRASING

    def lookup(self, hashes: list[str]) -> dict[str, tuple[Part, int]]:
        """Return text hash -> (part, row) of those `hashes` stored here, to reuse in the next generation."""
        found: dict[str, tuple[Part, int]] = {}
        for part in (self.base, self.delta):
            if part is not None:
                rows = part.row_of()
                found.update((h, (part, rows[h])) for h in hashes if h in rows)
        return found


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
