"""What embeddings cost: one thread per worker, nothing embedded twice in a process, re-indexing only what changed."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import numpy as np
import pytest

import helpdesk.search.model.encoder as encoder_module
from helpdesk.kb.library import ArticleLibrary, LibraryStore, load_library
from helpdesk.search.engine import SearchEngine
from helpdesk.search.model.encoder import Encoder, load_encoder, new_session, session_options
from helpdesk.search.model.location import MODEL_FILE
from helpdesk.search.vector_writer import write_vectors
from helpdesk.search.vectors import PHRASING, VECTORS, VectorSet, embedded_texts, open_vectors, text_hash
from tests.search.conftest import ARTICLES


def os_threads() -> int:
    return len(list(Path("/proc/self/task").iterdir()))


def counting_runs(encoder: Encoder, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the texts that go through the model (the real model still runs)."""
    seen: list[int] = []
    real = encoder._run

    def run(encodings: list) -> np.ndarray:
        seen.append(len(encodings))
        return real(encodings)

    monkeypatch.setattr(encoder, "_run", run)
    return seen


def test_the_model_runs_on_one_thread_without_spinning(model_dir: Path) -> None:
    encoder = load_encoder(model_dir)
    assert encoder is not None
    options = encoder._session.get_session_options()
    assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1
    assert options.execution_mode.name == "ORT_SEQUENTIAL"
    assert options.graph_optimization_level.name == "ORT_ENABLE_ALL"
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    encoder.embed(["warm the session up"], remember=False)
    before = os_threads()
    for text in ("i can't log in", "my password expired", "a longer query about a locked account " * 4):
        encoder.embed([text], query=True)  # what a web worker does per query
    assert os_threads() == before  # no thread started (and none left running) to compete with the other worker


def kernels_run(model_dir: Path, tmp_path: Path) -> set[str]:
    """Return the operators ONNX Runtime ran for one document window, read from its profile."""
    import onnxruntime as ort

    options = session_options(ort)
    options.enable_profiling = True
    tmp_path.mkdir()
    options.profile_file_prefix = str(tmp_path / "profile")
    session = new_session(ort, model_dir / MODEL_FILE, options)
    ids = np.array([[101, 7592, 2088, 2003, 1037, 3231, 102]], dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    session.run(None, {i.name: feed[i.name] for i in session.get_inputs()})
    events = json.loads(Path(session.end_profiling()).read_text(encoding="utf-8"))
    return {e["args"]["op_name"] for e in events if e.get("cat") == "Node" and "op_name" in e.get("args", {})}


def test_the_model_runs_without_the_fused_skip_layer_norm_and_embeds_the_same(
    tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder = load_encoder(model_dir)
    assert encoder is not None
    shipped = kernels_run(model_dir, tmp_path / "shipped")
    assert "SkipLayerNormalization" not in shipped and "LayerNormalization" in shipped
    monkeypatch.setattr(encoder_module, "UNFUSED", ())
    assert "SkipLayerNormalization" in kernels_run(model_dir, tmp_path / "fused")  # what ONNX Runtime does alone
    fused = Encoder(model_dir)
    texts = ["I can't log in", "How do I transfer a case to another state? " * 30, "password expired at home"]
    for query in (False, True):
        ours, theirs = encoder.embed(texts, remember=False, query=query), fused.embed(texts, query=query)
        assert (ours * theirs).sum(axis=1).min() > 0.99999  # the same vectors, up to float rounding


def test_a_build_sized_call_runs_batches_side_by_side_and_keeps_the_input_order(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder = load_encoder(model_dir)
    assert encoder is not None
    words = ["account", "password", "transfer", "case", "state", "login", "reset", "form", "code", "report"]
    rng = random.Random(5)
    texts = [" ".join(rng.choices(words, k=rng.choice([2, 9, 40, 150]))) for _ in range(encoder_module.PARALLEL_FROM)]
    runs = counting_runs(encoder, monkeypatch)
    together = encoder.embed(texts, remember=False)  # sorted by length into batches, on a thread per core
    assert max(runs) == encoder_module.BATCH and len(runs) > 1
    monkeypatch.setattr(encoder_module, "PARALLEL_FROM", 10**6)
    alone = np.stack([encoder.embed([text], remember=False)[0] for text in texts])
    assert (together * alone).sum(axis=1).min() > 0.99999  # row i is text i's vector
    assert len({round(float(v), 4) for v in together[:, 0]}) > len(texts) // 2  # and the texts' vectors differ


def test_numpy_blas_runs_on_one_thread_once_the_model_is_loaded(model_dir: Path) -> None:
    from threadpoolctl import threadpool_info

    assert load_encoder(model_dir) is not None
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)


def test_a_second_engine_in_the_process_embeds_nothing_again(
    tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = load_library(ARTICLES)
    first = SearchEngine(tmp_path / "one", lambda: library, embedding_model=model_dir)
    first.ensure_index()
    first.close()
    runs = counting_runs(first.semantic.encoder, monkeypatch)  # type: ignore[arg-type]
    # Tests make many apps with fresh index folders over the same articles: the model is loaded once per process
    # and remembers what it embedded, so the second index costs no model call.
    second = SearchEngine(tmp_path / "two", lambda: library, embedding_model=model_dir)
    try:
        assert second.semantic.encoder is first.semantic.encoder
        second.ensure_index()
        assert runs == []
        assert second.status()["ranking"] == "hybrid"
        assert second.search("I can't log in").results
    finally:
        second.close()


def test_a_question_is_embedded_with_its_article_title() -> None:
    library = load_library(ARTICLES)
    article = next(a for a in library.articles.values() if a.questions)
    texts = dict((key, text) for key, kind, text in embedded_texts(article) if kind == "document")
    question = article.questions[0]
    assert texts[f"{article.slug}#{question.id}"].startswith(f"{article.title}: {question.text}\n")


def with_phrasing(library: ArticleLibrary, slug: str, phrasing: str) -> ArticleLibrary:
    article = library.articles[slug]
    first = dataclasses.replace(article.questions[0], phrasings=(phrasing,))
    changed = dataclasses.replace(article, questions=(first, *article.questions[1:]))
    return dataclasses.replace(library, articles={**library.articles, slug: changed})


def test_re_embedding_copies_unchanged_rows_and_sees_a_new_learned_phrasing(
    tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder = load_encoder(model_dir)
    assert encoder is not None
    library = load_library(ARTICLES)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_vectors(tmp_path / "a", library, encoder, None)
    first = open_vectors(tmp_path / "a", encoder.model_id)
    assert first is not None
    slug = next(s for s, a in library.articles.items() if a.questions)
    # Same article text, one learned phrasing more: the article's remembered rows must not hide it.
    runs = counting_runs(encoder, monkeypatch)
    taught = with_phrasing(library, slug, "zebra crossing outage at the courthouse")
    assert write_vectors(tmp_path / "b", taught, encoder, first) == 1
    assert sum(runs) == 1
    second = VectorSet(tmp_path / "b")
    assert second.kinds.count(PHRASING) == first.kinds.count(PHRASING) + 1
    assert second.row_keys[second.kinds.index(PHRASING)].startswith(f"{slug}#")
    same = {h: i for i, h in enumerate(first.hashes)}
    for i, h in enumerate(second.hashes):
        if h in same:
            assert np.array_equal(np.asarray(second.matrix[i]), np.asarray(first.matrix[same[h]]))


def test_best_row_per_document_whether_rows_are_together_or_not(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    rows = rng.standard_normal((5, 4)).astype(np.float32)
    query = rng.standard_normal(4).astype(np.float32)
    for keys in (["a", "a", "b", "c", "c"], ["a", "b", "a", "c", "b"]):
        np.save(tmp_path / VECTORS, rows)
        (tmp_path / "vectors.json").write_text(
            json.dumps({"model": "m", "keys": keys, "hashes": list("12345")}), encoding="utf-8"
        )
        vectors = VectorSet(tmp_path)
        sims = rows @ query
        want = [max(float(sims[i]) for i, k in enumerate(keys) if k == key) for key in vectors.keys]
        assert vectors.similarities(query).tolist() == pytest.approx(want)


def test_a_re_index_stays_hybrid(tmp_path: Path, kb_dir: Path, kb_store: LibraryStore, model_dir: Path) -> None:
    engine = SearchEngine(tmp_path / "index", kb_store.current, embedding_model=model_dir)
    try:
        engine.ensure_index()
        page = next(kb_dir.glob("*.md"))
        page.write_text(page.read_text(encoding="utf-8") + "\nA sentence about quokkas.\n", encoding="utf-8")
        engine.ensure_index()
        assert engine.status()["ranking"] == "hybrid"
        assert engine.search("quokkas").results[0].article == page.stem
    finally:
        engine.close()


def test_reading_documents_further_is_another_cache_identity_and_embeds_everything_again(
    tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = load_library(ARTICLES)
    landed = load_encoder(model_dir)
    assert landed is not None
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_vectors(tmp_path / "a", library, landed, None)
    old = open_vectors(tmp_path / "a", landed.model_id)
    assert old is not None
    # One window more than shipped: the same model, reading a long document further.
    monkeypatch.setattr(
        encoder_module, "DOCUMENT_TOKENS", encoder_module.DOCUMENT_TOKENS + encoder_module.WINDOW_TOKENS
    )
    further = Encoder(model_dir)
    assert further.model_id != landed.model_id
    long_text, short_text = "How do I transfer a case to another state? " * 40, "I can't log in to ICOTS"
    assert text_hash(further.model_id, long_text) != text_hash(landed.model_id, long_text)
    # A long document's vector changes (so the old ones must not be reused); a query is read as before.
    assert not np.allclose(further.embed([long_text], remember=False), landed.embed([long_text], remember=False))
    assert np.array_equal(further.embed([long_text], query=True), landed.embed([long_text], query=True))
    assert np.allclose(further.embed([short_text], remember=False), landed.embed([short_text], remember=False))
    # The generation embedded by the landed reading is not this encoder's: a build re-embeds every text.
    assert open_vectors(tmp_path / "a", further.model_id) is None
    texts = {text for article in library.articles.values() for _, _, text in embedded_texts(article)}
    assert write_vectors(tmp_path / "b", library, further, old) == len(texts)
    assert VectorSet(tmp_path / "b").model == further.model_id
