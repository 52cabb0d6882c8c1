"""Warming a newly opened generation: its lists are in memory before queries ask, scored exactly as Whoosh
scores them, and the warm-up never makes a search or a writer wait."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import helpdesk.search.warmup as warmup
from helpdesk.kb.library import LibraryStore
from helpdesk.search.engine import SearchEngine
from helpdesk.search.index import WARM_FILE, IndexStore
from helpdesk.search.query import plan_query
from helpdesk.search.reader import OpenIndex
from helpdesk.search.synonyms import SynonymTable
from helpdesk.search.warmup import Warmer, seed_of
from tests.search.conftest import edit_article

QUERIES = [
    "password reset",
    "unable to sign in",
    "caps lock",
    "reopen a closed case",
    "slow website",
    "privacy policy training",
    "deactivate user account",
    "email address",
]


def test_a_new_generation_is_warmed_before_queries_need_it(engine: SearchEngine, kb_dir: Path) -> None:
    state = engine.warm_up(timeout=30)
    assert state["done"] and state["stopped"] == "" and state["terms"] > 100 and state["postings"] > 0
    for query in QUERIES:
        assert engine.search(query).results
    assert engine.warm_up()["query_reads"] == 0  # every word, synonym and phrase was already in memory

    edit_article(kb_dir, "errors-and-technical-support", "caps lock", "keyboard shift mode")
    engine.ensure_index()  # publishes a new generation: warmed too, from the lists of the previous one
    state = engine.warm_up(timeout=30)
    assert state["done"] and state["reused"] > 0 and state["terms"] > 100
    assert engine.search("keyboard shift mode").results[0].article == "errors-and-technical-support"
    assert not engine.search("caps lock").results
    assert engine.warm_up()["query_reads"] == 0


def _plans(opened: OpenIndex, synonyms: SynonymTable) -> list:
    return [plan_query(q, synonyms, opened.vocabulary(), opened.known_stem) for q in QUERIES]


def test_warm_lists_score_exactly_as_whoosh(
    engine: SearchEngine, tmp_path: Path, kb_dir: Path, kb_store: LibraryStore
) -> None:
    store, synonyms = IndexStore(tmp_path / "index"), SynonymTable()

    def opened() -> OpenIndex:
        name = store.current()
        assert name is not None
        return OpenIndex(store, name, store.read_meta(name), synonyms, warmable=True)

    cold, warm = opened(), opened()  # `cold` scores through Whoosh's own scorer, document by document
    Warmer(warm, synonyms).start().join(30)
    assert all(warm.run(p, 10) == cold.run(p, 10) for p in _plans(warm, synonyms))
    edit_article(kb_dir, "user-administration-and-system-access", "Deactivate", "Switch off")
    name = store.update(warm.name, warm.meta, kb_store.current())  # one changed article: one new segment
    assert name is not None
    cold.close()
    cold, rewarmed = opened(), opened()
    Warmer(rewarmed, synonyms, seed_of(warm)).start().join(30)
    warm.close()
    assert rewarmed.warm.reused > 0  # rescored from kept term frequencies rather than read again
    assert all(rewarmed.run(p, 10) == cold.run(p, 10) for p in _plans(rewarmed, synonyms))
    cold.close()
    rewarmed.close()


def test_warm_up_keeps_to_its_budget(engine: SearchEngine, tmp_path: Path) -> None:
    store, synonyms = IndexStore(tmp_path / "index"), SynonymTable()
    name = store.current()
    assert name is not None
    small = OpenIndex(store, name, store.read_meta(name), synonyms, warmable=True)
    Warmer(small, synonyms, budget=50).start().join(30)
    assert 0 < small.warm.postings <= 50 and small.warm.stopped == "postings budget spent"
    small.close()


def test_warm_up_never_blocks_search_nor_holds_the_writer_lock(
    engine: SearchEngine, tmp_path: Path, kb_dir: Path, kb_store: LibraryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.warm_up(timeout=30)
    stalled, release = threading.Event(), threading.Event()
    read_term = warmup.read_term

    def stalling_read(*args, **kwargs):  # the warm-up's reads only; queries read through reader.read_term
        stalled.set()
        release.wait(30)
        return read_term(*args, **kwargs)

    monkeypatch.setattr(warmup, "read_term", stalling_read)
    try:
        engine.rebuild()  # a new generation, whose warm-up now stops in the middle of a posting list
        assert stalled.wait(10)
        assert engine.warm_up()["done"] is False and "(warming up)" in str(engine.status()["detail"])
        answers: list[object] = []
        searcher = threading.Thread(target=lambda: answers.extend(engine.search(q) for q in QUERIES))
        started = time.perf_counter()
        searcher.start()
        searcher.join(10)
        assert not searcher.is_alive() and time.perf_counter() - started < 5
        assert all(response.results for response in answers)  # type: ignore[attr-defined]
        with IndexStore(tmp_path / "index").locked(timeout=0) as got:
            assert got  # the writers' lock is free while the warm-up runs
        edit_article(kb_dir, "errors-and-technical-support", "caps lock", "keyboard shift mode")
        engine.ensure_index()  # and a writer publishes a new generation meanwhile
        assert engine.search("keyboard shift mode").results
    finally:
        release.set()
    # The stalled warm-up belonged to a generation replaced since: it notices and stops; the new one warms.
    assert engine.warm_up(timeout=30)["done"]
    with IndexStore(tmp_path / "index").locked(timeout=5) as got:  # a warm-up running under the writers' lock
        other = SearchEngine(tmp_path / "index", kb_store.current)
        try:
            assert got and other.warm_up(timeout=30)["done"]
        finally:
            other.close()


def test_the_next_process_loads_the_warm_file(engine: SearchEngine, tmp_path: Path, kb_store: LibraryStore) -> None:
    first = engine.warm_up(timeout=30)
    name = IndexStore(tmp_path / "index").current()
    assert name is not None and not first["loaded"]
    warm_file = tmp_path / "index" / name / WARM_FILE
    assert warm_file.stat().st_size > 0  # written by the first warm-up of the generation
    expected = [engine.search(q).to_dict() for q in QUERIES]
    for damage in (None, b"\x00garbage\xff" * 50, None):
        if damage is not None:
            warm_file.write_bytes(damage)  # a damaged warm file is only ignored
        other = SearchEngine(tmp_path / "index", kb_store.current)  # as another web worker would
        try:
            state = other.warm_up(timeout=30)
            assert state["done"] and state["loaded"] is (damage is None)  # and a damaged file is replaced
            assert state["terms"] == first["terms"] and state["postings"] == first["postings"]
            assert [other.search(q).to_dict() for q in QUERIES] == expected
            assert other.warm_up()["query_reads"] == 0
        finally:
            other.close()


def test_an_update_does_not_carry_the_warm_file_over(engine: SearchEngine, tmp_path: Path, kb_dir: Path) -> None:
    engine.warm_up(timeout=30)
    store = IndexStore(tmp_path / "index")
    before = store.current()
    edit_article(kb_dir, "errors-and-technical-support", "caps lock", "keyboard shift mode")
    engine.ensure_index()
    after = store.current()
    assert before != after and (tmp_path / "index" / str(before) / WARM_FILE).exists()
    state = engine.warm_up(timeout=30)
    assert not state["loaded"] and state["reused"] > 0  # warmed from memory; then its own warm file written
    assert (tmp_path / "index" / str(after) / WARM_FILE).stat().st_ino != (
        tmp_path / "index" / str(before) / WARM_FILE
    ).stat().st_ino
