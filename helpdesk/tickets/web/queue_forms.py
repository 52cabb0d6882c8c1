"""Forms of the queue, Manage Case Load and the routing preview (GET filters need no CSRF token; the POST has one)."""

from __future__ import annotations

import re

from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from helpdesk.admin.forms import choices
from helpdesk.forms import Form
from helpdesk.ids import coerce_id, parse_id
from helpdesk.tickets.models import OPEN_STATUSES, STATUSES
from helpdesk.vocabulary import STATUS_LABELS, Status

#: The status views of a queue: a value of the `status` filter -> (label, statuses shown).
STATUS_VIEWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "active": ("Open work", OPEN_STATUSES),
    **{status: (STATUS_LABELS[status], (status,)) for status in Status},
    "all": ("All", STATUSES),
}
#: The orders of a queue: a value of the `sort` filter -> its label.
SORTS = {
    "due": "Resolution due (soonest first)",
    "response": "First response due (soonest first)",
    "created": "Created (newest first)",
    "updated": "Updated (most recent first)",
}
_ID = Regexp(r"^\d{1,9}$", message="Choose from the list.")
_SEEN = re.compile(r"^(\d{1,9}):(\d{1,9})$")


class _GetForm(Form):
    """A GET form: it changes nothing, so it needs no CSRF token."""

    class Meta:
        csrf = False


class QueueFilterForm(_GetForm):
    """Filters, order and page of a queue; the view sets the category and tier choices."""

    status = SelectField(
        "Status", choices=choices((value, label) for value, (label, _) in STATUS_VIEWS.items()), default="active"
    )
    category = SelectField("Category", default="")
    assignee = StringField(
        "Assignee",
        default="",
        validators=[
            Optional(),
            Regexp(r"^(me|none|\d{1,9})$", message="Choose me, unassigned or a person from the list."),
        ],
    )
    incident = IntegerField(
        "Incident number",
        validators=[Optional(), NumberRange(min=1, max=2_000_000_000, message="Give an incident number.")],
    )
    tier = SelectField("Tier", default="")
    sort = SelectField("Sort by", choices=choices(SORTS.items()), default="due")
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(min=1, max=100_000)])

    #: The query-string keys of the filters (kept when the page links to itself or comes back after a change).
    FIELDS = ("status", "category", "assignee", "incident", "tier", "sort", "page")


class CaseloadFilterForm(_GetForm):
    """Whose requests Manage Case Load lists."""

    holder = StringField("Holder", default="", validators=[Optional(), _ID])


class CaseloadForm(Form):
    """Requests to move (ticked, or all of the holder's) and the person who takes them."""

    pick = SelectMultipleField("Requests", coerce=coerce_id, validate_choice=False)
    #: "id:version" of every request listed when the page was loaded: a change since then is a conflict.
    seen = SelectMultipleField(
        "Seen",
        validate_choice=False,
        validators=[InputRequired(message="The list of requests is missing: reload the page.")],
    )
    select_all = BooleanField("All of this person's requests listed below")
    to = StringField("Give them to", validators=[InputRequired(message="Choose who takes the requests."), _ID])
    reason = TextAreaField(
        "Reason (optional, shown in each request's history)",
        validators=[Optional(), Length(max=300, message="Use at most 300 characters.")],
    )

    def seen_versions(self) -> dict[int, int] | None:
        """Return the versions seen, by request id (None when the hidden list was tampered with)."""
        versions = {}
        for item in self.seen.data or []:
            ticket_id, _, version = item.partition(":")
            number, seen = parse_id(ticket_id), parse_id(version)
            if number is None or seen is None:
                return None
            versions[number] = seen
        return versions


class QueueBulkForm(Form):
    """One change to the requests ticked in the queue: assign them to a person, or set their status."""

    pick = SelectMultipleField("Requests", validate_choice=False)
    #: "id:version" of every request listed when the page was loaded: a change since then is a conflict.
    seen = SelectMultipleField(
        "Seen",
        validate_choice=False,
        validators=[InputRequired(message="The list of requests is missing: reload the page.")],
    )
    select_all = BooleanField("Every request on this page")
    action = SelectField(
        "Change",
        choices=choices([("assign", "Assign"), ("status", "Set the status")]),
        validators=[InputRequired(message="Choose what to change.")],
    )
    to = StringField("Assign to", validators=[Optional(), _ID])
    status = SelectField(
        "Set the status to",
        default="",
        choices=choices(
            [
                ("", "Choose a status"),
                (Status.OPEN, STATUS_LABELS[Status.OPEN]),
                (Status.PENDING, STATUS_LABELS[Status.PENDING]),
                (Status.RESOLVED, "Resolved (write the resolution)"),
            ]
        ),
    )
    note = TextAreaField(
        "Reason, or the resolution (shown in each request's history)",
        validators=[Optional(), Length(max=1000, message="Use at most 1,000 characters.")],
    )

    def seen_versions(self) -> dict[int, int] | None:
        """Return the versions seen, by request id (None when the hidden list was tampered with)."""
        versions = {}
        for item in self.seen.data or []:
            found = _SEEN.match(item)
            if found is None:  # ids and versions stay in the database's integer range: no overflow, a clear 400
                return None
            versions[int(found[1])] = int(found[2])
        return versions


class ExplainForm(_GetForm):
    """The category and agency of a routing preview; the view sets the choices."""

    category = SelectField("Category", validators=[InputRequired(message="Choose a category.")])
    agency = StringField("Agency", validators=[InputRequired(message="Choose an agency."), _ID])


#: The longest routing policy that may be pasted into the preview (the shipped routing.yml is about 3,400).
MAX_POLICY_CHARS = 20_000


class TryPolicyForm(Form):
    """A routing preview posted with a routing policy to try (CSRF-checked; the policy is never saved)."""

    category = SelectField("Category", validators=[InputRequired(message="Choose a category.")])
    agency = StringField("Agency", validators=[InputRequired(message="Choose an agency."), _ID])
    policy = TextAreaField(
        "Routing policy to try (optional)",
        validators=[
            Optional(),
            Length(max=MAX_POLICY_CHARS, message=f"Paste at most {MAX_POLICY_CHARS:,} characters (routing.yml only)."),
        ],
    )
