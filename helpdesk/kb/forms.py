"""Forms of the knowledge base (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from wtforms import StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from helpdesk.forms import Form
from helpdesk.kb.models import VOTE_REASON_MAX


class VoteForm(Form):
    """ "Was this article helpful?": the pressed button sends helpful=yes or helpful=no."""

    helpful = StringField(
        validators=[InputRequired(message="Choose Yes or No."), AnyOf(["yes", "no"], message="Choose Yes or No.")]
    )
    reason = TextAreaField(
        "What was missing or wrong? (optional)",
        validators=[Optional(), Length(max=VOTE_REASON_MAX, message=f"Keep it under {VOTE_REASON_MAX} characters.")],
    )


class VoteReasonForm(Form):
    """The reason added after a "No" vote."""

    reason = TextAreaField(
        "What was missing or wrong?",
        validators=[
            InputRequired(message="Write a few words, or leave the page."),
            Length(max=VOTE_REASON_MAX, message=f"Keep it under {VOTE_REASON_MAX} characters."),
        ],
    )


class CommentForm(Form):
    """A comment in Markdown."""

    body = TextAreaField(
        "Your comment",
        validators=[
            InputRequired(message="Write a comment first."),
            Length(max=5000, message="Keep comments under 5000 characters."),
        ],
    )


class HideCommentForm(Form):
    """Why a moderator hides a comment."""

    reason = StringField(
        "Reason for hiding", validators=[InputRequired(message="Say why the comment is hidden."), Length(max=500)]
    )
