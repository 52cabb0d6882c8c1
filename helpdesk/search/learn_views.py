"""The editors' list of learned phrasings (national administrators for now): see them, remove the wrong ones."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from helpdesk.accounts.forms import EmptyForm
from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import is_national
from helpdesk.accounts.session import current_origin
from helpdesk.extensions import db, login_manager
from helpdesk.kb import get_library
from helpdesk.search.documents import split_key
from helpdesk.search.learning import list_phrasings, remove_phrasing
from helpdesk.search.views import bp


def _editor() -> User | Response:
    """Return the signed-in national administrator, or the response that refuses everyone else."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not is_national(current_user):
        abort(403)
    user: User = current_user._get_current_object()
    return user


@bp.get("/search/phrasings")
def phrasings() -> Response | str:
    """List the learned phrasings with the question each leads to, and a Remove button for those in use."""
    editor = _editor()
    if not isinstance(editor, User):
        return editor
    library = get_library()
    rows = []
    for phrasing in list_phrasings(db.session):
        slug, question_id = split_key(phrasing.question_key)
        article = library.get(slug)
        question = article.question(question_id) if article is not None and question_id else None
        target = (question.text if question else article.title) if article is not None else phrasing.question_key
        url = url_for("kb.article", slug=slug, _anchor=question_id) if article is not None else None
        rows.append((phrasing, target, url))
    return render_template("search/phrasings.html", rows=rows, form=EmptyForm())


@bp.post("/search/phrasings/<id:phrasing_id>/remove")
def remove(phrasing_id: int) -> Response:
    """Remove a learned phrasing from search; it is kept as removed so that it is never learned again."""
    editor = _editor()
    if not isinstance(editor, User):
        return editor
    if not EmptyForm().validate_on_submit():
        abort(400, "The form expired; please try again.")
    row = remove_phrasing(db.session, phrasing_id, actor=editor, origin=current_origin())
    if row is None:
        abort(404)
    flash(f"\u201c{row.phrase}\u201d was removed from search; it will not be learned again.", "success")
    return redirect(url_for("search.phrasings"), 303)
