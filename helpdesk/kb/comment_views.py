"""Comment pages: add (signed in), edit (author), hide and show again (compact office and national staff)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.accounts.forms import EmptyForm
from helpdesk.accounts.permissions import can_moderate_comment_by, can_moderate_comments
from helpdesk.accounts.session import current_origin
from helpdesk.extensions import db
from helpdesk.kb.comments import CommentError, add_comment, edit_comment, hide_comment, unhide_comment
from helpdesk.kb.forms import CommentForm, HideCommentForm
from helpdesk.kb.models import Comment
from helpdesk.kb.views import get_article_or_404, render_article
from helpdesk.orm import utcnow

bp = Blueprint("comments", __name__)


def _comment_or_404(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or (comment.hidden_at is not None and not can_moderate_comment_by(current_user, comment.author)):
        abort(404)
    return comment


def _moderated_comment_or_abort(comment_id: int) -> Comment:
    """Load a comment to moderate: 403 for non-moderators, 404 when missing or its author is of another state."""
    comment = _comment_or_404(comment_id)
    if not can_moderate_comments(current_user):
        abort(403)
    if not can_moderate_comment_by(current_user, comment.author):
        abort(404)
    return comment


def _back(comment: Comment) -> Response:
    return redirect(url_for("kb.article", slug=comment.article_slug, _anchor=f"comment-{comment.id}"), 303)


@bp.post("/articles/<slug>/comments")
@login_required
def add(slug: str) -> Response | tuple[str, int]:
    """Add a comment to an article."""
    article = get_article_or_404(slug)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            comment = add_comment(
                db.session,
                article.slug,
                author=current_user._get_current_object(),
                body=form.body.data or "",
                origin=current_origin(),
                now=utcnow(),
            )
        except CommentError as exc:
            form.body.errors = [str(exc)]
        else:
            flash("Your comment is published.", "success")
            return _back(comment)
    return render_article(article, comment_form=form, status=400)


@bp.route("/comments/<id:comment_id>/edit", methods=["GET", "POST"])
@login_required
def edit(comment_id: int) -> Response | str | tuple[str, int]:
    """Edit one's own comment."""
    comment = _comment_or_404(comment_id)
    if comment.author_id != current_user.id:
        abort(403)
    form = CommentForm(data={"body": comment.body_md})
    if form.validate_on_submit():
        try:
            edit_comment(
                db.session,
                comment,
                actor=current_user._get_current_object(),
                body=form.body.data or "",
                origin=current_origin(),
                now=utcnow(),
            )
        except CommentError as exc:
            form.body.errors = [str(exc)]
        else:
            flash("Your comment is updated.", "success")
            return _back(comment)
    article = get_article_or_404(comment.article_slug)
    status = 400 if form.errors else 200
    return render_template("kb/comment_edit.html", form=form, comment=comment, article=article), status


@bp.post("/comments/<id:comment_id>/hide")
@login_required
def hide(comment_id: int) -> Response:
    """Hide a comment, with a reason (moderators)."""
    comment = _moderated_comment_or_abort(comment_id)
    form = HideCommentForm()
    if not form.validate_on_submit():
        flash(" ".join(form.reason.errors) or "Say why the comment is hidden.", "error")
        return _back(comment)
    hide_comment(
        db.session,
        comment,
        actor=current_user._get_current_object(),
        reason=form.reason.data or "",
        origin=current_origin(),
        now=utcnow(),
    )
    flash("The comment is hidden from readers.", "success")
    return _back(comment)


@bp.post("/comments/<id:comment_id>/unhide")
@login_required
def unhide(comment_id: int) -> Response:
    """Show a hidden comment again (moderators)."""
    comment = _moderated_comment_or_abort(comment_id)
    if EmptyForm().validate_on_submit():  # only the CSRF token is sent
        unhide_comment(db.session, comment, actor=current_user._get_current_object(), origin=current_origin())
        flash("The comment is shown again.", "success")
    return _back(comment)
