"""Knowledge base: articles from `articles/`, their pages and helpfulness votes."""

from __future__ import annotations

from flask import Flask, current_app

from helpdesk.kb.library import ArticleLibrary, LibraryStore

_EXT = "helpdesk.library"


def init_app(app: Flask) -> None:
    """Attach the per-process article store and the voter cookie hook to the app."""
    from helpdesk.kb import voters

    voters.init_app(app)
    app.extensions[_EXT] = LibraryStore(app.config["ARTICLES_DIR"], app.config["INDEX_CHECK_SECONDS"])


def get_library() -> ArticleLibrary:
    """Return the current app's article library (reloaded when files change)."""
    store: LibraryStore = current_app.extensions[_EXT]
    return store.current()
