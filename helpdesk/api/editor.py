"""JSON API v1 for editors: write, publish, archive and restore articles (bearer token, or session + CSRF)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import can_edit_articles
from helpdesk.accounts.session import current_origin
from helpdesk.api.tickets import _authenticate
from helpdesk.errors import error_response
from helpdesk.extensions import csrf, db
from helpdesk.kb import get_library
from helpdesk.kb.content_models import Article, Section
from helpdesk.kb.editing import (
    Draft,
    EditInvalid,
    archive_article,
    clean_tags,
    find_article,
    get_revision,
    list_revisions,
    publish_article,
    restore_revision,
    save_article,
)
from helpdesk.orm import utcnow

bp = Blueprint("api_editor", __name__, url_prefix="/api/v1/editor")
csrf.exempt(bp)  # _authenticate checks CSRF for session callers, and bearer callers need none
bp.before_request(_authenticate)


@bp.url_value_preprocessor
def _allow_long_texts(endpoint: str | None, values: dict[str, object] | None) -> None:
    # A text over the article limit must reach the validator (a 422 naming the field), not the app-wide 413.
    if endpoint in ("api_editor.create_article", "api_editor.update_article"):
        request.max_content_length = 4 * 1024 * 1024


@bp.before_request
def _editors_only() -> Response | None:
    user: User = g.api_user
    if not can_edit_articles(user):
        return error_response(
            403, "Only knowledge base editors and national administrators may edit articles.", "forbidden"
        )
    get_library()  # an empty database is seeded from the articles folder before the first edit
    return None


def _options() -> dict[str, Any]:
    return {
        "actor": g.api_user,
        "origin": current_origin(),
        "now": utcnow(),
        "state_sections": bool(current_app.config.get("KB_STATE_SECTIONS")),
    }


def article_json(article: Article, *, full: bool = False) -> dict[str, Any]:
    """Return the editor's view of an article: slug, status, revision (and its fields when `full`)."""
    revision = get_revision(db.session, article, article.current_revision)
    section = db.session.get(Section, article.section_id)
    data: dict[str, Any] = {
        "slug": article.slug,
        "status": article.status,
        "revision": article.current_revision,
        "published_revision": article.published_revision,
        "title": revision.title if revision else "",
        "section": section.slug if section else "",
        "updated_at": article.updated_at.isoformat(),
    }
    if full and revision is not None:
        data.update(body=revision.body, summary=revision.summary, tags=clean_tags(revision.tags), note=revision.note)
    return data


def _draft(payload: Any) -> Draft:
    if not isinstance(payload, dict):
        raise EditInvalid({"body": "Send a JSON object with title, section and body."})
    text = {k: payload.get(k, "") for k in ("title", "section", "body", "summary", "note", "slug")}
    bad = [k for k, v in text.items() if not isinstance(v, str)]
    tags = payload.get("tags", [])
    if not isinstance(tags, (list, str)) or (isinstance(tags, list) and not all(isinstance(t, str) for t in tags)):
        bad.append("tags")
    if bad:
        raise EditInvalid({bad[0]: f"'{bad[0]}' must be {'a list of strings' if bad[0] == 'tags' else 'a string'}."})
    return Draft(
        text["title"], text["section"], text["body"], text["summary"], clean_tags(tags), text["note"], text["slug"]
    )


T = TypeVar("T")


def _apply(change: Callable[[], T], answer: Callable[[T], Response]) -> Response:
    """Run one editing change in the request's transaction and answer; EditInvalid (422) and EditConflict (409)
    reach the app's DomainError handler, and the request's end commits or rolls back."""
    try:
        result = change()
    except PermissionError as exc:
        return error_response(403, f"Not allowed: {exc}.", "forbidden")
    return answer(result)


def _found(slug: str) -> Article | Response:
    article = find_article(db.session, slug)
    return article if article is not None else error_response(404, "There is no article with this slug.", "not_found")


@bp.get("/articles")
def list_articles() -> Response:
    """List every article with its status and latest revision (drafts and archived ones too)."""
    articles = db.session.scalars(select(Article).order_by(Article.slug)).all()
    return jsonify(articles=[article_json(a) for a in articles])


@bp.post("/articles")
def create_article() -> Response | tuple[Response, int]:
    """Create an article as a draft (or published at once with "publish": true)."""
    payload = request.get_json(silent=True)
    publish = isinstance(payload, dict) and payload.get("publish") is True
    answer = _apply(
        lambda: save_article(db.session, None, _draft(payload), publish=publish, **_options())[0],
        lambda article: jsonify(article_json(article, full=True)),
    )
    return (answer, 201) if answer.status_code == 200 else answer


@bp.get("/articles/<slug>")
def get_article(slug: str) -> Response:
    """Return the article's latest revision (what the editor opens)."""
    found = _found(slug)
    return found if isinstance(found, Response) else jsonify(article_json(found, full=True))


@bp.put("/articles/<slug>")
def update_article(slug: str) -> Response:
    """Save the next revision; `base_revision` must be the latest (else 409 naming the newer one)."""
    found = _found(slug)
    if isinstance(found, Response):
        return found
    payload = request.get_json(silent=True)
    base = payload.get("base_revision") if isinstance(payload, dict) else None
    if not isinstance(base, int) or isinstance(base, bool):
        raise EditInvalid({"base_revision": "Send base_revision: the revision this edit is based on."})
    publish = isinstance(payload, dict) and payload.get("publish") is True  # a dict here: `base` came from it
    return _apply(
        lambda: save_article(db.session, found, _draft(payload), base_revision=base, publish=publish, **_options())[0],
        lambda article: jsonify(article_json(article, full=True)),
    )


@bp.post("/articles/<slug>/publish")
def publish(slug: str) -> Response:
    """Publish the latest revision (every host serves it within the index check interval)."""
    return _change_status(slug, "publish")


@bp.post("/articles/<slug>/archive")
def archive(slug: str) -> Response:
    """Archive the article: readers get 404; it keeps its history."""
    return _change_status(slug, "archive")


def _change_status(slug: str, action: str) -> Response:
    found = _found(slug)
    if isinstance(found, Response):
        return found
    change = publish_article if action == "publish" else archive_article
    return _apply(lambda: change(db.session, found, **_options()), lambda _: jsonify(article_json(found)))


@bp.post("/articles/<slug>/restore")
def restore(slug: str) -> Response:
    """Add a new revision with the text of {"revision": N} (published at once when the article is)."""
    found = _found(slug)
    if isinstance(found, Response):
        return found
    payload = request.get_json(silent=True)
    number = payload.get("revision") if isinstance(payload, dict) else None
    if not isinstance(number, int) or isinstance(number, bool):
        raise EditInvalid({"revision": 'Send the number of the revision to restore: {"revision": N}.'})
    return _apply(
        lambda: restore_revision(db.session, found, number, **_options()),
        lambda _: jsonify(article_json(found, full=True)),
    )


@bp.get("/articles/<slug>/revisions")
def revisions(slug: str) -> Response:
    """List the article's revisions, newest first, with author, time and note."""
    found = _found(slug)
    if isinstance(found, Response):
        return found
    rows = list_revisions(db.session, found)
    authors = {
        u.id: u.name
        for u in db.session.scalars(select(User).where(User.id.in_({r.author_id for r in rows if r.author_id})))
    }
    return jsonify(
        slug=found.slug,
        revisions=[
            {
                "number": r.number,
                "title": r.title,
                "author": authors.get(r.author_id) if r.author_id else None,
                "created_at": r.created_at.isoformat(),
                "note": r.note,
                "published": r.number == found.published_revision,
            }
            for r in rows
        ],
    )
