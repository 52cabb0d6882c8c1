"""Article comments: signed-in users write Markdown (sanitised), authors edit theirs, moderators hide (no Flask)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import can_moderate_comment_by, can_moderate_comments, is_national
from helpdesk.audit.services import Origin, record_event
from helpdesk.domain_errors import DomainError
from helpdesk.kb.models import Comment
from helpdesk.kb.rendering import render_markdown
from helpdesk.kb.stats import refresh_comments
from helpdesk.text import clean_line, clean_text

COMMENT_MAX = 5000


class CommentError(DomainError):
    """A refused comment, with the reason in words."""

    code = "invalid_comment"
    field = "body"


def _clean(body: str) -> str:
    body = clean_text(body).strip()
    if not body:
        raise CommentError("Write a comment first.")
    if len(body) > COMMENT_MAX:
        raise CommentError(f"Keep comments under {COMMENT_MAX} characters.")
    return body


def add_comment(
    session: Session, article_slug: str, *, author: User, body: str, origin: Origin, now: dt.datetime
) -> Comment:
    """Add a comment by `author` to the article."""
    body = _clean(body)
    comment = Comment(
        article_slug=article_slug,
        author_id=author.id,
        body_md=body,
        body_html=render_markdown(body),
        created_at=now,
        updated_at=now,
    )
    session.add(comment)
    session.flush()
    record_event(
        session,
        "comment_added",
        origin=origin,
        actor_id=author.id,
        actor_email=author.email,
        target_type="comment",
        target_id=comment.id,
        state_code=author.state_code,
        detail=article_slug,
    )
    refresh_comments(session, article_slug)
    return comment


def edit_comment(
    session: Session, comment: Comment, *, actor: User, body: str, origin: Origin, now: dt.datetime
) -> None:
    """Replace the text of the actor's own comment."""
    if comment.author_id != actor.id:
        raise PermissionError("only the author can edit a comment")
    body = _clean(body)
    comment.body_md, comment.body_html, comment.updated_at = body, render_markdown(body), now
    record_event(
        session,
        "comment_edited",
        origin=origin,
        actor_id=actor.id,
        actor_email=actor.email,
        target_type="comment",
        target_id=comment.id,
        state_code=actor.state_code,
    )
    refresh_comments(session, comment.article_slug)


def hide_comment(
    session: Session, comment: Comment, *, actor: User, reason: str, origin: Origin, now: dt.datetime
) -> None:
    """Hide a comment from readers (kept, with who hid it and why); the author's compact office or national staff."""
    if not can_moderate_comment_by(actor, comment.author):
        raise PermissionError("only the author's compact office and national staff can hide comments")
    reason = " ".join(clean_line(reason).split())[:500]
    if not reason:
        raise CommentError("Say why the comment is hidden.")
    comment.hidden_at, comment.hidden_by_id, comment.hidden_reason = now, actor.id, reason
    # Filed under the author's state, so that its administrators see it whoever moderated (national staff too).
    record_event(
        session,
        "comment_hidden",
        origin=origin,
        actor_id=actor.id,
        actor_email=actor.email,
        target_type="comment",
        target_id=comment.id,
        state_code=comment.author.state_code,
        detail=reason,
    )
    refresh_comments(session, comment.article_slug)


def unhide_comment(session: Session, comment: Comment, *, actor: User, origin: Origin) -> None:
    """Show a hidden comment again."""
    if not can_moderate_comment_by(actor, comment.author):
        raise PermissionError("only the author's compact office and national staff can show hidden comments")
    comment.hidden_at = comment.hidden_by_id = comment.hidden_reason = None
    record_event(
        session,
        "comment_unhidden",
        origin=origin,
        actor_id=actor.id,
        actor_email=actor.email,
        target_type="comment",
        target_id=comment.id,
        state_code=comment.author.state_code,
    )
    refresh_comments(session, comment.article_slug)


def list_comments(session: Session, article_slug: str, *, viewer: User | None) -> list[Comment]:
    """Return the article's comments, oldest first; hidden ones only for those who may moderate them."""
    query = select(Comment).where(Comment.article_slug == article_slug).order_by(Comment.created_at, Comment.id)
    if viewer is None or not can_moderate_comments(viewer):
        query = query.where(Comment.hidden_at.is_(None))
    elif not is_national(viewer):
        authors = select(User.id).where(User.state_code == viewer.state_code, User.state_code.is_not(None))
        query = query.where(or_(Comment.hidden_at.is_(None), Comment.author_id.in_(authors)))
    return list(session.scalars(query))
