"""The semantic signal of the engine: the model, each generation's embeddings, and cached query vectors."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import numpy as np

from helpdesk.search.analysis import words
from helpdesk.search.cache import LRUCache
from helpdesk.search.fusion import CANDIDATES, SEM_FLOOR, semantic_top
from helpdesk.search.model.encoder import Encoder
from helpdesk.search.query import QueryPlan
from helpdesk.search.reader import OpenIndex
from helpdesk.search.vectors import VECTORS_META, VectorSet, open_vectors

_SYNTAX = re.compile(r"[^\w\s'\u2019\-.,?!]")
QUERY_VECTORS = 4096  # the default; an engine sizes it like its result cache (0: nothing cached)


class SemanticSide:
    """Embeddings for one engine; every method answers None rather than fail when there is no model."""

    def __init__(self, encoder: Encoder | None, cache_size: int = QUERY_VECTORS) -> None:
        self.encoder = encoder
        self._lock = threading.Lock()
        #: (generation, its vectors, stamp of their metadata file)
        self._opened: tuple[str, VectorSet | None, tuple[int, int] | None] | None = None
        #: Query embeddings are cached like the results they feed (a typeahead re-asks the same prefix often).
        self._queries: LRUCache[str, np.ndarray] = LRUCache(cache_size)

    @property
    def model_id(self) -> str | None:
        """Return the id of the model in use, or None when search is lexical only."""
        return self.encoder.model_id if self.encoder is not None else None

    def vectors(self, source: object) -> VectorSet | None:
        """Return the embeddings of the generation `source`, or None (no model, fallback index, not built yet)."""
        if self.encoder is None or not isinstance(source, OpenIndex):
            return None
        opened = self._opened
        if opened is not None and opened[0] == source.name and opened[1] is not None:
            return opened[1]
        stamp = _stamp(source.directory / VECTORS_META)  # one stat while they are missing: they land after it
        if opened is not None and opened[0] == source.name and opened[2] == stamp:
            return None
        with self._lock:
            found = open_vectors(source.directory, self.encoder.model_id) if stamp is not None else None
            self._opened = (source.name, found, stamp)
        return found

    def query_vector(self, text: str) -> np.ndarray | None:
        """Return the unit embedding of the query text (cached)."""
        if self.encoder is None or not text:
            return None
        vector = self._queries.get(text)
        if vector is None:
            vector = self.encoder.embed([text], query=True)[0]
            self._queries.put(text, vector)
        return vector

    def rank(
        self, vectors: VectorSet, query: np.ndarray, lexical_keys: list[str]
    ) -> tuple[list[tuple[str, float]], dict[str, float], int]:
        """Return the semantic top candidates, the similarity of each lexical candidate, and how many documents
        are at least as close as the relevance floor."""
        sims = vectors.similarities(query)
        position = vectors.position
        of_lexical = {k: float(sims[position[k]]) for k in lexical_keys if k in position}
        return semantic_top(vectors.keys, sims, CANDIDATES), of_lexical, int(np.count_nonzero(sims >= SEM_FLOOR))

    def clear(self) -> None:
        """Forget the opened embeddings and cached query vectors."""
        with self._lock:
            self._opened = None
        self._queries.clear()


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
        return st.st_ino, st.st_mtime_ns
    except OSError:
        return None


def meaning_text(text: str, plan: QueryPlan) -> str:
    """Return the text whose meaning is searched: while typing, the unfinished word is replaced by its most
    likely completion ("passw" means nothing to the model, "password" does)."""
    # Query syntax means nothing, to either side: only word characters, apostrophes and hyphens ("e-filing")
    # and the punctuation of sentences reach the model.
    tokens = _SYNTAX.sub(" ", text).split()
    typing = next((c for c in plan.concepts if c.prefix is not None), None)
    if typing is not None and tokens and words(tokens[-1]) == [typing.prefix]:
        completed = next((a for a in typing.alternatives if a.words != (typing.prefix,)), None)
        if completed is not None:
            tokens[-1:] = completed.words
    return " ".join(tokens)
