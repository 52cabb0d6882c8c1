"""Knowledge base: articles kept in the database (seeded from `articles/`), their pages, votes and comments."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the article and vote modules are Flask-free; keep Flask out of their import path
    from flask import Flask

    from helpdesk.kb.db_library import DbLibraryStore
    from helpdesk.kb.library import ArticleLibrary

_EXT = "helpdesk.library"


def init_app(app: Flask) -> None:
    """Attach the per-process article store, the voter cookie hook and the comment pages to the app."""
    from helpdesk.kb import kept_stats, voters
    from helpdesk.kb.comment_views import bp as comments_bp
    from helpdesk.kb.db_library import DbLibraryStore

    voters.init_app(app)
    kept_stats.init_app(app)
    app.register_blueprint(comments_bp)
    # The first use of the library imports ARTICLES_DIR into an empty database; then the database is the source.
    store = DbLibraryStore(
        app.extensions["helpdesk.db"][0], app.config["ARTICLES_DIR"], app.config["INDEX_CHECK_SECONDS"]
    )
    app.extensions[_EXT] = store
    # Seed now, before any request holds a write transaction the import would wait for (SQLite). A database not
    # migrated yet (`serve` migrates after creating the app) is seeded at the first use of the library instead.
    store.try_seed()


def get_library() -> ArticleLibrary:
    """Return the current app's article library (re-read when the content version in the database changes)."""
    from flask import current_app

    store: DbLibraryStore = current_app.extensions[_EXT]
    return store.current()
