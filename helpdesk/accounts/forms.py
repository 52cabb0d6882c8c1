"""Sign-in, reset, privacy and second-factor forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from helpdesk.accounts.passwords import MAX_LENGTH
from helpdesk.forms import Form


class LoginForm(Form):
    """E-mail and password."""

    email = EmailField(
        "E-mail address", validators=[InputRequired(message="Enter your e-mail address."), Length(max=254)]
    )
    password = PasswordField(
        "Password", validators=[InputRequired(message="Enter your password."), Length(max=MAX_LENGTH)]
    )


class ForgotForm(Form):
    """ "What was my password again?": the sign-in e-mail."""

    email = EmailField(
        "Your sign-in e-mail address",
        validators=[InputRequired(message="Enter the e-mail address you sign in with."), Length(max=254)],
    )


class SetPasswordForm(Form):
    """A new password, typed twice."""

    password = PasswordField("New password", validators=[InputRequired(message="Enter a new password.")])
    confirm = PasswordField(
        "Type the new password again",
        validators=[
            InputRequired(message="Type the new password again."),
            EqualTo("password", message="The two passwords are not the same."),
        ],
    )


class ChangePasswordForm(SetPasswordForm):
    """A password change while signed in: the current password first."""

    current = PasswordField("Current password", validators=[InputRequired(message="Enter your current password.")])


class PrivacyForm(Form):
    """Electronic acceptance of the privacy policy."""

    accept = BooleanField(
        "I have read, understand and agree to the privacy policy",
        validators=[InputRequired(message="Tick the box to agree, or sign out.")],
    )


class CodeForm(Form):
    """A 6-digit authenticator code or a recovery code."""

    code = StringField("Code", validators=[InputRequired(message="Enter the code."), Length(max=32)])


class EmptyForm(Form):
    """A form with only its CSRF token (sign out, confirmations)."""
