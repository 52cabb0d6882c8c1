"""The forms of the content-gap page: add a failed query as a phrasing, or mark an item handled."""

from __future__ import annotations

from wtforms import HiddenField, SelectField
from wtforms.validators import AnyOf, InputRequired, Length

from helpdesk.forms import Form
from helpdesk.insights.models import KINDS
from helpdesk.search.models import QUERY_MAX


class PhrasingForm(Form):
    """From a failed search: make its query a phrasing of the chosen question."""

    kind = HiddenField(validators=[AnyOf(("zero_result", "no_click"))])
    query = HiddenField(validators=[InputRequired(), Length(max=QUERY_MAX)])
    question = SelectField(
        "Add as a phrasing of",
        validate_choice=False,
        validators=[InputRequired(message="Choose the question this search should find.")],
    )


class HandledForm(Form):
    """Mark an item handled without a phrasing (an article was written or changed, or nothing is to be done)."""

    kind = HiddenField(validators=[AnyOf(KINDS)])
    key = HiddenField(validators=[InputRequired(), Length(max=QUERY_MAX)])
