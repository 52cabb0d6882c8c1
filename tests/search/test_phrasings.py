"""Learned phrasings in the index: an article whose phrasings change is re-indexed (it alone), reads never fail."""

from __future__ import annotations

from pathlib import Path

from helpdesk.kb.library import LibraryStore
from helpdesk.search.engine import SearchEngine
from helpdesk.search.phrasings import PhrasedLibrary, with_phrasings

SLUG = "user-administration-and-system-access"
KEY = f"{SLUG}#how-do-i-delete-a-user-for-icots"


def _first(engine: SearchEngine, query: str) -> str | None:
    results = engine.search(query).results
    return f"{results[0].article}#{results[0].question_id}" if results else None


def test_a_changed_phrasing_reindexes_only_its_article(tmp_path: Path, kb_store: LibraryStore) -> None:
    learned: dict[str, tuple[str, ...]] = {}
    library = PhrasedLibrary(kb_store.current, lambda: dict(learned), check_interval=0)
    engine = SearchEngine(tmp_path / "index", library)
    try:
        engine.ensure_index()
        store = engine._maintainer.store
        before = store.read_meta(store.current() or "")
        assert _first(engine, "someone quit") != KEY
        learned[KEY] = ("someone quit", "colleague retired")
        library.refresh()
        engine.ensure_index()
        after = store.read_meta(store.current() or "")
        changed = {slug for slug, digest in after.digests.items() if before.digests.get(slug) != digest}
        assert changed == {SLUG} and after.fingerprint != before.fingerprint
        assert _first(engine, "someone quit") == KEY and _first(engine, "a colleague retired") == KEY
        assert engine.check() == []
        learned.clear()  # removed by an editor
        library.refresh()
        engine.ensure_index()
        assert store.read_meta(store.current() or "").fingerprint == before.fingerprint
        assert _first(engine, "a colleague retired") is None
    finally:
        engine.close()


def test_phrasings_of_unknown_questions_change_nothing(kb_store: LibraryStore) -> None:
    base = kb_store.current()
    assert with_phrasings(base, {"no-such-article#x": ("a",), f"{SLUG}#gone": ("b",)}) is base
    assert with_phrasings(base, {}) is base


def test_a_failing_read_of_the_phrasings_never_fails_search(tmp_path: Path, kb_store: LibraryStore) -> None:
    def broken() -> dict[str, tuple[str, ...]]:
        raise RuntimeError("database down")

    engine = SearchEngine(tmp_path / "index", PhrasedLibrary(kb_store.current, broken, check_interval=0))
    try:
        engine.ensure_index()
        assert engine.search("forgot my password").results
    finally:
        engine.close()
