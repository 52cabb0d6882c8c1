"""The forms of a ticket's page: one small form per action, each with its CSRF token and the version it saw."""

from __future__ import annotations

from typing import ClassVar

from wtforms import BooleanField, IntegerField, MultipleFileField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from helpdesk.forms import Form, SelectChoice
from helpdesk.ids import MAX_ID, coerce_id
from helpdesk.tickets.workflow import MAX_BODY
from helpdesk.vocabulary import STATUS_LABELS, Status

#: Longest reason kept in a ticket event's reason (ticket_event.reason is String(1000), with words around it).
MAX_REASON = 900
#: Longest explanation kept as an event's text (what was checked, why to reopen).
MAX_EXPLANATION = 5_000
STALE = "This form is out of date: reload the request and try again."
_NOT_OFFERED = "Choose one of the people offered: only named, active people who work this request can hold it."
_OPEN_OR_PENDING = "Choose open or pending; resolve a request with its resolution."
STATUS_CHOICES = [SelectChoice(status.value, STATUS_LABELS[status]) for status in (Status.OPEN, Status.PENDING)]


def _required(message: str, limit: int = MAX_BODY) -> list[InputRequired | Length]:
    return [InputRequired(message=message), Length(max=limit, message=f"Keep it under {limit:,} characters.")]


def _optional(limit: int = MAX_REASON) -> list[Optional | Length]:
    return [Optional(), Length(max=limit, message=f"Keep it under {limit:,} characters.")]


class TicketActionForm(Form):
    """What every action posts: the ticket version it was based on, and the last history entry it showed."""

    #: The field holding what the person wrote, kept on the page when the change is refused.
    TEXT_FIELD: ClassVar[str] = ""

    version = IntegerField(
        "Version",
        widget=HiddenInput(),
        validators=[InputRequired(message=STALE), NumberRange(min=1, max=MAX_ID, message=STALE)],
    )
    seen = IntegerField(
        "Last event seen", widget=HiddenInput(), validators=[Optional(), NumberRange(min=0, max=MAX_ID)]
    )

    def text(self) -> str:
        """Return what the person wrote into the form."""
        return str(getattr(self, self.TEXT_FIELD).data or "") if self.TEXT_FIELD else ""


class ReplyForm(TicketActionForm):
    """A public reply; staff may set the status with it."""

    TEXT_FIELD = "body"
    body = TextAreaField("Your reply", validators=_required("Write your reply first."))
    attachments = MultipleFileField("Attach files (optional)")
    status = SelectField(  # type: ignore[call-arg]  # invalid_*_message: WTForms 3.3, not in types-WTForms 3.2
        "Then set the status to",
        choices=[SelectChoice("", "Leave it as it is"), *STATUS_CHOICES],
        default="",
        invalid_choice_message=_OPEN_OR_PENDING,
    )


class NoteForm(TicketActionForm):
    """An internal note: only the people who work or reassign the ticket read it."""

    TEXT_FIELD = "body"
    body = TextAreaField("Internal note", validators=_required("Write the note first."))


class StatusForm(TicketActionForm):
    """Open or pending (waiting on the reporter); resolving has its own form."""

    TEXT_FIELD = "reason"
    status = SelectField(  # type: ignore[call-arg]  # invalid_*_message: WTForms 3.3, not in types-WTForms 3.2
        "New status",
        choices=STATUS_CHOICES,
        invalid_choice_message=_OPEN_OR_PENDING,
        validators=[InputRequired(message=_OPEN_OR_PENDING)],
    )
    reason = TextAreaField("Why (optional)", validators=_optional())


class ResolveForm(TicketActionForm):
    """The resolution: what solved the problem, mailed to the reporter."""

    TEXT_FIELD = "resolution"
    resolution = TextAreaField("Resolution", validators=_required("Write the resolution first."))


class AssignForm(TicketActionForm):
    """A named, active person to hold the ticket (choices set by the view)."""

    TEXT_FIELD = "reason"
    assignee = SelectField(  # type: ignore[call-arg]  # invalid_*_message: WTForms 3.3, not in types-WTForms 3.2
        "Assign to",
        coerce=coerce_id,
        invalid_value_message=_NOT_OFFERED,
        invalid_choice_message=_NOT_OFFERED,
        validators=[InputRequired(message="Choose the person who takes the request.")],
    )
    reason = TextAreaField("Why (optional)", validators=_optional())


class EscalateForm(TicketActionForm):
    """Escalation: local IT confirm they ruled out local causes and say what they checked."""

    TEXT_FIELD = "checked"
    ruled_out = BooleanField("I ruled out local causes: this computer, this office's network and the account")
    checked = TextAreaField(
        "What you checked", validators=_required("Say what you checked before escalating.", MAX_EXPLANATION)
    )


class ReopenForm(TicketActionForm):
    """Why a resolved or closed request is opened again (compact office and national staff)."""

    TEXT_FIELD = "reason"
    reason = TextAreaField(
        "Why it is reopened", validators=_required("Say why the request is reopened.", MAX_EXPLANATION)
    )


class AskReopenForm(TicketActionForm):
    """The reporter's request to reopen a closed request."""

    TEXT_FIELD = "reason"
    reason = TextAreaField(
        "Why it should be reopened", validators=_required("Say why the request should be reopened.", MAX_EXPLANATION)
    )


#: The form of each action of actions.ACTIONS.
FORMS: dict[str, type[TicketActionForm]] = {
    "reply": ReplyForm,
    "note": NoteForm,
    "status": StatusForm,
    "resolve": ResolveForm,
    "assign": AssignForm,
    "escalate": EscalateForm,
    "reopen": ReopenForm,
    "ask_reopen": AskReopenForm,
}
