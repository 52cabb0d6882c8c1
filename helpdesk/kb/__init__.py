"""Knowledge base: articles from `articles/`, their pages, helpfulness votes and comments."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the article and vote modules are Flask-free; keep Flask out of their import path
    from flask import Flask

    from helpdesk.kb.library import ArticleLibrary, LibraryStore

_EXT = "helpdesk.library"


def init_app(app: Flask) -> None:
    """Attach the per-process article store, the voter cookie hook and the comment pages to the app."""
    from helpdesk.kb import voters
    from helpdesk.kb.comment_views import bp as comments_bp
    from helpdesk.kb.library import LibraryStore

    voters.init_app(app)
    app.register_blueprint(comments_bp)
    app.extensions[_EXT] = LibraryStore(app.config["ARTICLES_DIR"], app.config["INDEX_CHECK_SECONDS"])


def get_library() -> ArticleLibrary:
    """Return the current app's article library (reloaded when files change)."""
    from flask import current_app

    store: LibraryStore = current_app.extensions[_EXT]
    return store.current()
