"""Search: the Whoosh index of articles, the search page and the search log."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Flask stays out of the engine's import path: the engine itself is Flask-free
    from flask import Flask

    from helpdesk.search.engine import SearchEngine
    from helpdesk.search.log_writer import SearchLogWriter

_EXT = "helpdesk.search"
_LOG = "helpdesk.search.log"


def init_app(app: Flask) -> None:
    """Create the app's search engine over the knowledge base's article store and the learned phrasings."""
    from helpdesk.search.engine import SearchEngine
    from helpdesk.search.learning import phrasing_loader
    from helpdesk.search.log_writer import SearchLogWriter
    from helpdesk.search.phrasings import PhrasedLibrary

    store = app.extensions["helpdesk.library"]
    # The index holds the articles with the phrasings learned from use (read from the app's database).
    library = PhrasedLibrary(
        store.current, phrasing_loader(app.extensions["helpdesk.db"][0]), app.config["INDEX_CHECK_SECONDS"]
    )
    app.extensions[_EXT] = SearchEngine(
        app.config["INDEX_DIR"], library, embedding_model=app.config.get("EMBEDDING_MODEL")
    )
    flush = float(app.config.get("SEARCH_LOG_FLUSH_SECONDS", 1.0))
    app.extensions[_LOG] = SearchLogWriter(app.extensions["helpdesk.db"][0], flush)


def get_engine() -> SearchEngine:
    """Return the current app's search engine."""
    from flask import current_app

    engine: SearchEngine = current_app.extensions[_EXT]
    return engine


def get_log_writer() -> SearchLogWriter:
    """Return the current app's search-log writer (the API's searches, written in batches)."""
    from flask import current_app

    writer: SearchLogWriter = current_app.extensions[_LOG]
    return writer
