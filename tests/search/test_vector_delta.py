"""A re-index writes the embeddings of changed documents as a delta beside the previous base, read as one set."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import helpdesk.search.model.encoder as encoder_module
import helpdesk.search.vector_writer as vector_writer
from helpdesk.kb.library import LibraryStore
from helpdesk.search.engine import SearchEngine
from helpdesk.search.model.encoder import load_encoder
from helpdesk.search.vectors import DELTA_META, VECTORS, VectorSet, embedded_texts
from tests.search.conftest import REPO, edit_article

ARTICLE = "getting-help-with-this-help-desk"
QUESTION = f"{ARTICLE}#was-this-article-helpful"
OLD = "At the end of every article you can answer *Yes* or *No*."
NEW = "Feed the office goldfish twice a day with three pinches of flakes."
GOLDFISH = "how often should the goldfish be fed"

#: Run in a new process: open the published index and print the semantic rank of each document for the queries.
FRESH = """
import json, sys
from pathlib import Path
from helpdesk.kb.library import load_library
from helpdesk.search.engine import SearchEngine
library = load_library(Path(sys.argv[1]))
engine = SearchEngine(Path(sys.argv[2]), lambda: library, cache_size=0, embedding_model=Path(sys.argv[3]))
out = {q: {r["key"]: r["semantic_rank"] for r in engine.explain(q, limit=100)} for q in sys.argv[4:]}
print(json.dumps(out))
engine.close()
"""


def generation(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text(encoding="utf-8").strip()


def semantic_rank(engine: SearchEngine, query: str, key: str) -> int | None:
    return next((r["semantic_rank"] for r in engine.explain(query, limit=100) if r["key"] == key), None)


def row_of(vectors: VectorSet, key: str) -> np.ndarray:
    rows = [
        i
        for i, (k, kind) in enumerate(zip(vectors.row_keys, vectors.kinds, strict=True))
        if k == key and kind == "document"
    ]
    assert len(rows) == 1
    return np.asarray(vectors.matrix[rows[0]])


def test_an_edited_article_is_found_by_its_new_text_and_not_its_old_one(
    tmp_path: Path, kb_dir: Path, kb_store: LibraryStore, model_dir: Path
) -> None:
    index_dir = tmp_path / "index"
    engine = SearchEngine(index_dir, kb_store.current, cache_size=0, embedding_model=model_dir)
    try:
        engine.ensure_index()
        first = generation(index_dir)
        before = row_of(VectorSet(first), QUESTION)
        assert semantic_rank(engine, GOLDFISH, QUESTION) != 1
        edit_article(kb_dir, ARTICLE, OLD, NEW)
        engine.ensure_index()
        second = generation(index_dir)
        vectors = VectorSet(second)
        assert vectors.delta is not None and (second / DELTA_META).is_file()
        assert (second / VECTORS).stat().st_ino == (first / VECTORS).stat().st_ino  # linked, not rewritten
        assert QUESTION in vectors.delta.keys and QUESTION in vectors.delta.dropped + vectors.delta.keys
        assert vectors.keys.count(QUESTION) == 1  # the base's row of the question is no longer live
        encoder = load_encoder(model_dir)
        assert encoder is not None
        text = next(t for k, kind, t in embedded_texts(kb_store.current().articles[ARTICLE]) if k == QUESTION)
        assert NEW in text
        assert np.allclose(row_of(vectors, QUESTION), encoder.embed([text], remember=False)[0], atol=1e-5)
        assert not np.allclose(row_of(vectors, QUESTION), before, atol=1e-3)
        assert semantic_rank(engine, GOLDFISH, QUESTION) == 1
        assert len(vectors.keys) == len(VectorSet(first).keys)  # same documents, none twice
    finally:
        engine.close()
    # A new process (a restarted worker) reads the base and the delta from disk, with nothing remembered.
    found = subprocess.run(
        [sys.executable, "-c", FRESH, str(kb_dir), str(index_dir), str(model_dir), GOLDFISH],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    ranks = json.loads(found.stdout.strip().splitlines()[-1])[GOLDFISH]
    assert ranks[QUESTION] == 1


def test_removed_documents_leave_and_a_large_delta_becomes_a_new_base(
    tmp_path: Path, kb_dir: Path, kb_store: LibraryStore, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    engine = SearchEngine(index_dir, kb_store.current, cache_size=0, embedding_model=model_dir)
    try:
        engine.ensure_index()
        keys = set(VectorSet(generation(index_dir)).keys)
        (kb_dir / "icots-privacy-policy.md").unlink()
        engine.ensure_index()
        vectors = VectorSet(generation(index_dir))
        assert vectors.delta is not None and "icots-privacy-policy" in vectors.delta.dropped
        assert set(vectors.keys) == {k for k in keys if not k.startswith("icots-privacy-policy")}
        assert len(vectors.similarities(vectors.matrix[0])) == len(vectors.keys)
        # The next delta is taken against the same base and still leaves the removed article out.
        edit_article(kb_dir, ARTICLE, OLD, NEW)
        engine.ensure_index()
        vectors = VectorSet(generation(index_dir))
        assert vectors.delta is not None and QUESTION in vectors.delta.keys
        assert "icots-privacy-policy" not in vectors.keys
        monkeypatch.setattr(vector_writer, "DELTA_SHARE", 0.0)  # any change now makes a new base
        monkeypatch.setattr(vector_writer, "DELTA_ROWS", 0)
        edit_article(kb_dir, ARTICLE, NEW, OLD)
        engine.ensure_index()
        folded = generation(index_dir)
        assert not (folded / DELTA_META).exists()
        assert VectorSet(folded).delta is None and set(VectorSet(folded).keys) == set(vectors.keys)
    finally:
        engine.close()


def test_batched_embeddings_equal_one_text_at_a_time(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    encoder = load_encoder(model_dir)
    assert encoder is not None
    texts = [
        "reset",
        "I can't log in to ICOTS from home",
        "How do I transfer a case to another state? " * 20,
        "password expired",
        "Who helps me when the articles do not solve my problem?",
    ] * 2
    together = encoder.embed(texts, remember=False)
    monkeypatch.setattr(encoder_module, "BATCH", 1)
    alone = np.stack([encoder.embed([t], remember=False)[0] for t in texts])
    assert np.abs(together - alone).max() < 1e-5
    assert not np.allclose(together[0], together[1], atol=1e-2)  # the texts differ, so do their vectors
