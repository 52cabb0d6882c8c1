"""The base of every form: what a person types is normalised (helpdesk.text) before any field sees it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import PasswordField, StringField, TextAreaField

# Re-exported for the forms and views. WTForms 3.3's, missing from types-WTForms 3.2: typed Any until it is there.
from wtforms.fields.choices import SelectChoice as SelectChoice  # type: ignore[attr-defined]

from helpdesk.text import clean_line, clean_text


def _cleaner(field: object) -> Callable[[str], str] | None:
    """Return the normaliser of a field: multi-line for text areas, single-line for other text, none for passwords."""
    if isinstance(field, PasswordField):  # a password is checked and hashed exactly as typed (NFKC only)
        return None
    if isinstance(field, TextAreaField):
        return clean_text
    return clean_line if isinstance(field, StringField) else None  # also e-mail and hidden fields


class Form(FlaskForm):
    """A Flask-WTF form (CSRF token included) whose text input is normalised first.

    The raw input itself is replaced, not only the field's data: a value with nothing visible left is then
    missing for InputRequired too.
    """

    def process(
        self, formdata: Any = None, obj: Any = None, data: Any = None, extra_filters: Any = None, **kwargs: Any
    ) -> None:
        """Normalise the text values of `formdata`, then process the fields as WTForms does."""
        formdata = self.meta.wrap_formdata(self, formdata)
        if formdata is not None:
            cleaners = {field.name: clean for field in self if (clean := _cleaner(field)) is not None}
            formdata = MultiDict(
                [
                    (key, cleaners[key](value) if key in cleaners and isinstance(value, str) else value)
                    for key in dict.fromkeys(formdata.keys())
                    for value in formdata.getlist(key)
                ]
            )
        super().process(formdata, obj, data=data, extra_filters=extra_filters, **kwargs)
