"""Administration forms (Flask-WTF: every form that changes something carries a CSRF token)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from wtforms import BooleanField, DateField, EmailField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from helpdesk.accounts.models import ROLES
from helpdesk.admin.queries import STATUSES
from helpdesk.forms import Form, SelectChoice
from helpdesk.ids import coerce_id


def choices(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """Return (value, label) pairs as select options."""
    return [SelectChoice(value=str(value), label=label) for value, label in pairs]


_ACTION = Regexp(r"^[a-z_]{0,64}$", message="Choose an action from the list.")
_STATE = Regexp(r"^([A-Za-z]{2})?$", message="Choose a state from the list.")


class _Filter(Form):
    """A GET filter form: it changes nothing, so it needs no CSRF token."""

    class Meta:
        csrf = False

    state = StringField("State", validators=[Optional(), _STATE])
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(min=1, max=100_000)])


class UserFilterForm(_Filter):
    """Search and filters of the users list."""

    q = StringField("Name or e-mail", validators=[Optional(), Length(max=254)])
    role = SelectField("Role", choices=choices([("", "Any role"), *ROLES.items()]), default="")
    agency = StringField("Agency", validators=[Optional(), Regexp(r"^\d{1,9}$", message="Choose an agency.")])
    status = SelectField("Status", choices=choices([("", "Any status"), *STATUSES.items()]), default="")


class AuditFilterForm(_Filter):
    """Filters of the audit trail: action, person (name or e-mail, as actor or target) and a range of days (UTC)."""

    action = StringField("Action", validators=[Optional(), _ACTION])
    person = StringField("Person (name or e-mail)", validators=[Optional(), Length(max=254)])
    since = DateField("From (day, UTC)", validators=[Optional()], format="%Y-%m-%d", render_kw={"type": "date"})
    until = DateField("To (day, UTC)", validators=[Optional()], format="%Y-%m-%d", render_kw={"type": "date"})

    def validate_since(self, field: DateField) -> None:
        """A day the trail can hold."""
        _plausible(field.data)

    def validate_until(self, field: DateField) -> None:
        """A day the trail can hold, not before the first day."""
        _plausible(field.data)
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The last day comes before the first: swap them.")


def _plausible(day: dt.date | None) -> None:
    if day is not None and not dt.date(2000, 1, 1) <= day <= dt.date(2999, 12, 31):
        raise ValidationError("Choose a day between 2000 and 2999.")


class InactiveFilterForm(_Filter):
    """The inactivity threshold of the report."""

    days = IntegerField("Not seen for (days)", validators=[Optional(), NumberRange(min=1, max=3650)])


class CreateUserForm(Form):
    """A new user: name, e-mail, agency and role (choices set by the view from the actor's rights)."""

    name = StringField(
        "Full name",
        validators=[
            InputRequired(message="Enter the person's full name."),
            Length(min=2, max=120, message="Use 2 to 120 characters."),
        ],
    )
    email = EmailField(
        "Work e-mail address (the person's own, not a shared mailbox)",
        validators=[InputRequired(message="Enter the person's e-mail address."), Length(max=254)],
    )
    agency = SelectField(
        "Agency", coerce=coerce_id, validate_choice=True, validators=[InputRequired(message="Choose the agency.")]
    )
    role = SelectField("Role", validators=[InputRequired(message="Choose a role.")])


class RoleForm(Form):
    """Another role for a user."""

    role = SelectField("New role", validators=[InputRequired(message="Choose a role.")])


class DeactivateForm(Form):
    """Deactivation, optionally handing the user's open work to a colleague of the same state in the same step."""

    reassign_to = StringField(
        "Give the open work to", validators=[Optional(), Regexp(r"^\d{1,9}$", message="Choose a colleague.")]
    )


class BulkDeactivateForm(Form):
    """The users ticked in the inactive-users report."""

    user_ids = SelectMultipleField(
        "Users", coerce=coerce_id, validate_choice=False, validators=[InputRequired(message="Tick at least one user.")]
    )
    days = IntegerField("Days", validators=[InputRequired(), NumberRange(min=1, max=3650)])


class StateSettingsForm(Form):
    """A state's settings."""

    require_mfa = BooleanField("Require a second factor (authenticator app) of every user of this state")
