"""Fixtures of the search tests: real Whoosh indexes in temporary directories over real article files."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpdesk.kb.library import LibraryStore, load_library
from helpdesk.search.engine import SearchEngine
from helpdesk.search.model.location import MODEL_FILE, TOKENIZER_FILE, default_model_dir

REPO = Path(__file__).resolve().parents[2]
ARTICLES = REPO / "articles"

SCRIPT_ARTICLE = """---
title: Pasting code into a form
section: troubleshooting
tags: [forms]
summary: What happens to markup typed into a form.
---
Forms keep what you type.

## Why does my text show as code?

A field that receives `<script>alert("owned")</script>` & friends shows it as text, never runs it.
"""


def require_model() -> Path:
    """Return the installed embedding model's folder; skip (fail in CI: HELPDESK_REQUIRE_MODEL) without it."""
    folder = default_model_dir()
    if (folder / MODEL_FILE).is_file() and (folder / TOKENIZER_FILE).is_file():
        return folder
    reason = f"the embedding model is not installed in {folder} (scripts/_setup.sh installs it)"
    if os.environ.get("HELPDESK_REQUIRE_MODEL", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}, and HELPDESK_REQUIRE_MODEL is set")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The embedding model the product uses by default."""
    return require_model()


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    """A private, editable copy of the real articles."""
    target = tmp_path / "kb"
    shutil.copytree(ARTICLES, target)
    return target


@pytest.fixture
def kb_store(kb_dir: Path) -> LibraryStore:
    """The library of `kb_dir`, re-read on every call so that edits show at once."""
    return LibraryStore(kb_dir, check_interval=0)


@pytest.fixture
def engine(tmp_path: Path, kb_store: LibraryStore) -> Iterator[SearchEngine]:
    """A search engine with its index built over `kb_dir`."""
    search = SearchEngine(tmp_path / "index", kb_store.current)
    search.ensure_index()
    yield search
    search.close()


@pytest.fixture(scope="module")
def real_engine(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Iterator[SearchEngine]:
    """One engine over the real, unchanged articles (hybrid ranking, as served), shared by a module's tests."""
    library = load_library(ARTICLES)
    search = SearchEngine(tmp_path_factory.mktemp("real-index"), lambda: library, embedding_model=model_dir)
    search.ensure_index()
    yield search
    search.close()


def edit_article(directory: Path, slug: str, old: str, new: str) -> None:
    """Replace text in an article file, failing loudly if the text is not there."""
    path = directory / f"{slug}.md"
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {slug}"
    path.write_text(text.replace(old, new), encoding="utf-8")
