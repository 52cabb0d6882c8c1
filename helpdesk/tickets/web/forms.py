"""Forms of filing a request and of "This answered my question" (Flask-WTF: each carries a CSRF token)."""

from __future__ import annotations

from flask_wtf.file import MultipleFileField
from wtforms import HiddenField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from helpdesk.forms import Form, SelectChoice
from helpdesk.tickets.models import AFFECTED
from helpdesk.tickets.submit import MAX_DESCRIPTION, MAX_SUGGESTIONS
from helpdesk.vocabulary import CLOSED_STATUSES, OPEN_STATUSES

#: The same shapes as the service checks, so that a bad value is refused before anything is filed.
ANSWER_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*(?:#[a-z0-9_-]+)?"
_ANSWERS = Regexp(
    rf"^(?:{ANSWER_PATTERN})?(?: {ANSWER_PATTERN})*$",
    message="The list of answers shown could not be read: reload the page and try again.",
)
_KEY = Regexp(r"^[A-Za-z0-9._:-]{8,64}$", message="The form has expired: reload the page and send it again.")
_TOO_LONG = f"Keep it under {MAX_DESCRIPTION:,} characters."
AFFECTED_LABELS = {"me": "Just me", "location": "Others at my location too", "unknown": "I don't know"}
#: The `status` filter of "My requests": its label and the ticket statuses it shows (none: every status).
STATUS_FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "all": ("All", ()),
    "open": ("Open", OPEN_STATUSES),
    "done": ("Resolved or closed", CLOSED_STATUSES),
}


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class RequestForm(Form):
    """A request: its category (choices set by the view from the policy), the problem, and optional files."""

    category = RadioField(  # type: ignore[call-arg]  # invalid_*_message: WTForms 3.3, not in types-WTForms 3.2
        "What kind of problem is it?",
        validate_choice=True,
        invalid_choice_message="Choose what kind of problem this is.",
    )
    subject = StringField(
        "Subject",
        filters=[_strip],
        validators=[
            DataRequired(message="Give the request a subject."),
            Length(min=3, max=200, message="Use 3 to 200 characters."),
        ],
    )
    description = TextAreaField(
        "Describe the problem: what happened, and what you expected",
        filters=[_strip],
        validators=[DataRequired(message="Describe the problem."), Length(max=MAX_DESCRIPTION, message=_TOO_LONG)],
    )
    tried = TextAreaField(
        "What I already tried (optional)",
        filters=[_strip],
        validators=[Optional(), Length(max=MAX_DESCRIPTION, message=_TOO_LONG)],
    )
    affected = RadioField(  # type: ignore[call-arg]  # invalid_*_message: WTForms 3.3, not in types-WTForms 3.2
        "Who is affected?",
        choices=[SelectChoice(code, AFFECTED_LABELS[code]) for code in AFFECTED],
        default="unknown",
        invalid_choice_message="Say who is affected.",
    )
    attachments = MultipleFileField("Attachments (optional)")
    idempotency_key = HiddenField(validators=[InputRequired(message=_KEY.message), _KEY])
    suggestions = HiddenField(filters=[_strip], validators=[Optional(), Length(max=MAX_SUGGESTIONS * 320), _ANSWERS])

    def suggestion_list(self) -> list[str]:
        """Return the answers the page showed (as "slug#question"), without repeats."""
        return list(dict.fromkeys((self.suggestions.data or "").split()))


class DeflectForm(Form):
    """ "This answered my question": the category, and the answer that helped (empty: the checklist did)."""

    category = StringField(
        validators=[
            InputRequired(message="Choose what kind of problem this is."),
            Regexp(r"^[a-z][a-z0-9_]{0,15}$", message="Choose a category from the list."),
        ]
    )
    answer = StringField(
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=320),
            Regexp(rf"^{ANSWER_PATTERN}$", message="The answer could not be read."),
        ],
    )
    #: The subject typed when search offered the answer (what search learns from; see helpdesk.search.learning).
    query = StringField(filters=[_strip], validators=[Optional(), Length(max=200)])


class MyRequestsFilterForm(Form):
    """The status filter and page of "My requests" (a GET form: it changes nothing, so no CSRF token)."""

    class Meta:
        csrf = False

    status = StringField(
        "Show", default="all", validators=[Optional(), AnyOf(list(STATUS_FILTERS), message="Choose a status filter.")]
    )
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(min=1, max=100_000)])
