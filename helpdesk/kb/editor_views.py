"""The editors' workspace: the list of articles, the edit page with its preview, conflicts, history and restore."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import can_edit_articles
from helpdesk.accounts.session import current_origin
from helpdesk.extensions import db, login_manager
from helpdesk.kb import get_library
from helpdesk.kb.content_models import STATUSES, Article, Section
from helpdesk.kb.editing import (
    Draft,
    EditConflict,
    EditInvalid,
    archive_article,
    clean_tags,
    find_article,
    get_revision,
    list_revisions,
    restore_revision,
    save_article,
)
from helpdesk.kb.editor_queries import list_editor_rows, list_no_reasons
from helpdesk.kb.preview import diff_lines, preview_body
from helpdesk.orm import utcnow

bp = Blueprint("editor", __name__, url_prefix="/editor")
#: The body of an editor's form may be this large: a text over the article limit must reach the validator, so
#: that the editor is told next to the field, with the text kept, rather than getting the app-wide 413 page.
FORM_LIMIT = 4 * 1024 * 1024


@bp.url_value_preprocessor
def _allow_long_texts(endpoint: str | None, values: dict[str, object] | None) -> None:
    if endpoint in ("editor.create", "editor.update", "editor.preview"):
        request.max_content_length = FORM_LIMIT


@bp.before_request
def _editors_only() -> Response | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not can_edit_articles(current_user):
        abort(403)
    get_library()  # an empty database is seeded from the articles folder first
    return None


def _actor() -> dict[str, Any]:
    user: User = current_user._get_current_object()
    return {
        "actor": user,
        "origin": current_origin(),
        "now": utcnow(),
        "state_sections": bool(current_app.config.get("KB_STATE_SECTIONS")),
    }


@bp.get("")
def index() -> str:
    """List every article with status, last editor, last change, helpfulness and open "No" reasons."""
    status, query = request.args.get("status", ""), request.args.get("q", "")[:200]
    rows = list_editor_rows(db.session, status=status, query=query)
    return render_template("editor/list.html", rows=rows, status=status, query=query, statuses=STATUSES)


def _sections() -> list[Section]:
    return list(db.session.scalars(select(Section).order_by(Section.position, Section.id)))


def _form_draft() -> Draft:
    form = request.form
    return Draft(
        form.get("title", ""),
        form.get("section", ""),
        form.get("body", ""),
        form.get("summary", ""),
        clean_tags(form.get("tags", "")),
        form.get("note", ""),
        form.get("slug", ""),
    )


def _page(
    article: Article | None, draft: Draft, *, base: int | None, errors: dict[str, str] | None = None, status: int = 200
) -> tuple[str, int]:
    published = get_library().get(article.slug) if article is not None else None
    preview = preview_body(draft.body, published)
    reasons = list_no_reasons(db.session, article.slug) if article is not None else []
    return render_template(
        "editor/edit.html",
        article=article,
        draft=draft,
        base=base,
        errors=errors or {},
        preview=preview,
        sections=_sections(),
        reasons=reasons,
    ), status


@bp.get("/new")
def new() -> tuple[str, int]:
    """A blank article; `?question=TEXT` starts it with that question (from a search that found nothing)."""
    question = " ".join(request.args.get("question", "").split())[:200]
    body = f"## {question}\n\n" if question else ""
    return _page(None, Draft(title="", section="", body=body), base=None)


@bp.get("/<slug>")
def edit(slug: str) -> tuple[str, int]:
    """Open the latest revision of an article."""
    article = find_article(db.session, slug) or abort(404)
    revision = get_revision(db.session, article, article.current_revision) or abort(404)
    section = db.session.get(Section, article.section_id)
    draft = Draft(
        revision.title,
        section.slug if section else "",
        revision.body,
        revision.summary,
        clean_tags(revision.tags),
        "",
        article.slug,
    )
    return _page(article, draft, base=article.current_revision)


@bp.post("/new")
def create() -> Response | tuple[str, int]:
    """Save or publish a new article (or only preview it)."""
    return _save(None)


@bp.post("/<slug>")
def update(slug: str) -> Response | tuple[str, int]:
    """Save a draft, publish, archive, or preview the article."""
    return _save(find_article(db.session, slug) or abort(404))


def _save(article: Article | None) -> Response | tuple[str, int]:
    draft, action = _form_draft(), request.form.get("action", "preview")
    base_text = request.form.get("base_revision", "")
    base = int(base_text) if base_text.isdigit() and len(base_text) < 10 else None
    if action == "preview" or action not in ("save", "publish", "archive"):
        return _page(article, draft, base=base)
    try:
        if action == "archive" and article is not None:
            archive_article(db.session, article, **_actor())
            message = "Archived: readers no longer see it."
        else:
            if article is not None and base is None:
                raise EditInvalid({"base_revision": "The form lost its revision number: reload the page."})
            article, revision = save_article(
                db.session, article, draft, base_revision=base, publish=action == "publish", **_actor()
            )
            message = (
                f"Published revision {revision.number}: every reader sees it within seconds."
                if action == "publish"
                else f"Saved draft revision {revision.number}; readers do not see it."
            )
    except EditConflict as exc:
        db.session.rollback()  # the page shows what is saved, not what the refused change left in memory
        return _conflict(article, draft, exc.current)
    except EditInvalid as exc:
        db.session.rollback()  # the page shows what is saved, not what the refused change left in memory
        return _page(article, draft, base=base, errors=exc.errors, status=400)
    except PermissionError:
        abort(403)
    flash(message, "success")
    return redirect(url_for("editor.edit", slug=article.slug), 303)


def _conflict(article: Article | None, draft: Draft, current: int) -> tuple[str, int]:
    assert article is not None
    theirs = get_revision(db.session, article, current)
    diff = diff_lines(theirs.body if theirs else "", draft.body, f"revision {current}", "your text")
    return render_template(
        "editor/conflict.html",
        article=article,
        draft=draft,
        theirs=theirs,
        diff=diff,
        sections=_sections(),
        current=current,
    ), 409


@bp.post("/preview")
def preview() -> str:
    """The preview fragment, for the edit page's script (the Preview button does the same without script)."""
    slug = request.form.get("slug", "")
    published = get_library().get(slug) if slug else None
    return render_template(
        "editor/_preview.html", preview=preview_body(request.form.get("body", "")[:300_000], published)
    )


@bp.get("/<slug>/history")
def history(slug: str) -> str:
    """Every revision with author, time and note; pick two to compare; restore one."""
    article = find_article(db.session, slug) or abort(404)
    revisions = list_revisions(db.session, article)
    authors = {
        u.id: u.name
        for u in db.session.scalars(select(User).where(User.id.in_({r.author_id for r in revisions if r.author_id})))
    }
    return render_template("editor/history.html", article=article, revisions=revisions, authors=authors)


@bp.get("/<slug>/diff")
def diff(slug: str) -> str:
    """The inline difference between two revisions (`from`, `to`)."""
    article = find_article(db.session, slug) or abort(404)
    numbers = [request.args.get(k, "") for k in ("from", "to")]
    if not all(n.isdigit() and len(n) < 10 for n in numbers):
        abort(400, "Choose two revisions to compare.")
    old, new = (get_revision(db.session, article, int(n)) for n in numbers)
    if old is None or new is None:
        abort(404)
    lines = diff_lines(
        f"# {old.title}\n\n{old.body}",
        f"# {new.title}\n\n{new.body}",
        f"revision {old.number}",
        f"revision {new.number}",
    )
    return render_template("editor/diff.html", article=article, old=old, new=new, lines=lines)


@bp.post("/<slug>/restore")
def restore(slug: str) -> Response:
    """Restore a revision: its text becomes a new revision (published at once when the article is)."""
    article = find_article(db.session, slug) or abort(404)
    number = request.form.get("revision", "")
    if not number.isdigit() or len(number) > 9:
        abort(400, "Choose the revision to restore.")
    try:
        revision = restore_revision(db.session, article, int(number), **_actor())
    except EditInvalid:  # no such revision
        abort(404)
    except PermissionError:
        abort(403)
    flash(f"Restored revision {number} as revision {revision.number}.", "success")
    return redirect(url_for("editor.history", slug=article.slug), 303)
