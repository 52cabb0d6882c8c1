"""Embeddings of a generation: built with it, reused for unchanged texts, invalidated with it; health and --explain."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from helpdesk.kb.library import LibraryStore
from helpdesk.search.engine import SearchEngine
from helpdesk.search.vectors import VECTORS, VectorSet, open_vectors
from tests.helpers import close_app
from tests.search.conftest import edit_article

SLOW_ARTICLE = "errors-and-technical-support"


def generation(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text(encoding="utf-8").strip()


def live_rows(vectors: VectorSet) -> dict[tuple[str, str], tuple[str, int]]:
    """Return (document, kind) -> (text hash, row of the live matrix)."""
    rows = zip(vectors.row_keys, vectors.kinds, vectors.hashes, strict=True)
    return {(key, kind): (h, i) for i, (key, kind, h) in enumerate(rows)}


def test_a_changed_article_re_embeds_only_its_changed_text(
    tmp_path: Path, kb_dir: Path, kb_store: LibraryStore, model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = SearchEngine(tmp_path / "index", kb_store.current, embedding_model=model_dir)
    try:
        engine.ensure_index()
        first_dir = generation(tmp_path / "index")
        first = VectorSet(first_dir)
        before = engine.search("the web page takes forever")
        edit_article(
            kb_dir,
            SLOW_ARTICLE,
            "This could be caused by",
            "Clear the browser cache and restart the computer. This could be caused by",
        )
        with caplog.at_level(logging.INFO, logger="helpdesk.search.index"):
            engine.ensure_index()
        assert "(1 texts embedded)" in caplog.text  # one answer changed: one text, not the whole library
        second_dir = generation(tmp_path / "index")
        assert second_dir != first_dir  # the embeddings live and die with their generation
        second = VectorSet(second_dir)
        assert second.delta is not None  # a small change is a delta beside the hard-linked base
        assert (second_dir / VECTORS).stat().st_ino == (first_dir / VECTORS).stat().st_ino
        old, new = live_rows(first), live_rows(second)
        assert old.keys() == new.keys()
        changed = [key for key in old if old[key][0] != new[key][0]]
        assert len(changed) == 1 and changed[0][0].startswith(f"{SLOW_ARTICLE}#what-do-i-do-when-the-page")
        same = [key for key in old if key not in changed]
        assert np.array_equal(
            np.asarray(first.matrix[[old[k][1] for k in same]]), np.asarray(second.matrix[[new[k][1] for k in same]])
        )
        after = engine.search("the web page takes forever")
        assert after is not before  # the cached answer went with the old generation
        assert any("<mark>" in hit.snippet for hit in after.results)
    finally:
        engine.close()


def test_embeddings_of_another_model_or_deleted_ones_are_made_again(
    tmp_path: Path, kb_store: LibraryStore, model_dir: Path
) -> None:
    engine = SearchEngine(tmp_path / "index", kb_store.current, embedding_model=model_dir)
    try:
        engine.ensure_index()
        gen = generation(tmp_path / "index")
        assert open_vectors(gen, engine.semantic.model_id) is not None
        assert open_vectors(gen, "another-model:0123") is None
        engine.close()
        (gen / VECTORS).unlink()
        assert any("no embeddings" in problem for problem in engine.check())
        assert engine.search("caps lock").results  # lexical meanwhile, never an error
        engine.ensure_index()
        assert open_vectors(gen, engine.semantic.model_id) is not None
        assert engine.status()["ranking"] == "hybrid"
    finally:
        engine.close()


def test_health_says_hybrid_with_the_model(app: Flask, client: FlaskClient) -> None:
    body = client.get("/healthz").json
    assert body["status"] == "ok"
    assert body["search"] == "hybrid" and body["embedding_model"].startswith("all-minilm-l6-v2-int8:")


@pytest.fixture
def no_model_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    app_config["EMBEDDING_MODEL"] = tmp_path / "missing-model"
    return app_config


def test_health_says_lexical_without_the_model_and_search_works(no_model_config: dict[str, Any]) -> None:
    from helpdesk import create_app

    app = create_app(no_model_config)
    try:
        client = app.test_client()
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json["search"] == "lexical" and health.json["embedding_model"] is None
        found = client.get("/api/v1/search", query_string={"q": "I can't log in"})
        assert found.status_code == 200 and found.json["results"]
    finally:
        close_app(app)


def test_explain_prints_both_ranks_and_scores(runner: FlaskCliRunner, model_dir: Path) -> None:
    result = runner.invoke(args=["search", "I can't log in", "--explain", "--limit", "15"])
    assert result.exit_code == 0, result.output
    assert "ranking: hybrid" in result.output
    first = result.output.splitlines()[1:3]
    assert first[0].startswith(" 1. errors-and-technical-support#what-do-i-do-when-i-get-an-error")
    assert "lexical #1 " in first[1] and "semantic #" in first[1] and "fused" in first[1] and "relevant" in first[1]
    assert "below the relevance floor" in result.output  # candidates that only share a word are shown as such


def test_answers_that_may_help_show_only_confident_answers(client: FlaskClient) -> None:
    assert client.get("/healthz").json["search"] == "hybrid"  # the index and its embeddings are built
    # What the request form's "Answers that may help" and the search box ask while the person types.
    noise = client.get("/api/v1/search", query_string={"q": "banana smoothie recipe", "typeahead": "1", "limit": "5"})
    assert noise.status_code == 200 and noise.json["results"] == []
    typed = client.get("/api/v1/search", query_string={"q": "i can't log in", "typeahead": "1", "limit": "5"})
    results = typed.json["results"]
    assert results[0]["question_id"] == "what-do-i-do-when-i-get-an-error-or-if-i-cant-log-into-icots"
    assert all(r["question_id"] != "how-do-i-find-an-answer-here" for r in results)


def test_a_document_scores_its_best_row_and_says_when_a_learned_phrasing_matched(tmp_path: Path) -> None:
    # Learned phrasings (a `phrasings` field of question documents) are extra rows of their document.
    rows = np.eye(3, dtype=np.float32)
    np.save(tmp_path / VECTORS, rows)
    (tmp_path / "vectors.json").write_text(
        json.dumps(
            {
                "model": "m",
                "keys": ["a#q", "a#q", "b"],
                "kinds": ["document", "phrasing", "document"],
                "hashes": ["h1", "h2", "h3"],
            }
        ),
        encoding="utf-8",
    )
    vectors = VectorSet(tmp_path)
    assert vectors.keys == ["a#q", "b"]
    query = np.array([0.1, 0.9, 0.2], dtype=np.float32)
    assert vectors.similarities(query).tolist() == pytest.approx([0.9, 0.2])
    assert vectors.phrasing_matched("a#q", query)
    assert not vectors.phrasing_matched("a#q", np.array([1.0, 0.0, 0.0], dtype=np.float32))
    assert open_vectors(tmp_path, "another model") is None
