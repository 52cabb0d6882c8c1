"""Personal API tokens page: list, create (shown once; needs a recent sign-in) and revoke the user's tokens."""

from __future__ import annotations

import time

from flask import abort, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from helpdesk.accounts import api_tokens as tokens
from helpdesk.accounts.forms import EmptyForm
from helpdesk.accounts.models import ApiToken
from helpdesk.accounts.session import RECENT_SIGN_IN_SECONDS, current_origin, require_recent_sign_in
from helpdesk.extensions import db
from helpdesk.forms import Form
from helpdesk.tickets.web.blueprint import acting_user, bp


class TokenForm(Form):
    """A new token's name: what will use it, so that its owner knows which one to revoke later."""

    name = StringField(
        "Token name",
        validators=[
            InputRequired(message="Give the token a name, such as the script that uses it."),
            Length(max=tokens.MAX_NAME, message=f"Use at most {tokens.MAX_NAME} characters."),
        ],
    )


def _page(
    form: TokenForm,
    *,
    error: str | None = None,
    created: ApiToken | None = None,
    plaintext: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    stale = time.time() - session.get("auth_at", 0.0) > RECENT_SIGN_IN_SECONDS
    page = render_template(
        "tickets/api_tokens.html",
        form=form,
        error=error,
        created=created,
        plaintext=plaintext,
        tokens=tokens.list_api_tokens(db.session, acting_user()),
        stale=stale,
    )
    return page, status


@bp.route("/account/tokens", methods=["GET", "POST"])
def api_tokens() -> Response | tuple[str, int]:
    """List the user's API tokens; POST creates one and shows its plaintext this once."""
    form = TokenForm()
    if request.method == "GET":
        return _page(form)
    stale = require_recent_sign_in(url_for("tickets.api_tokens"))
    if stale is not None:  # a token outlives the session: only a fresh sign-in may mint one
        return stale
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        token, plaintext = tokens.create_api_token(
            db.session, actor=acting_user(), name=form.name.data or "", origin=current_origin()
        )
    except tokens.TokenError as exc:  # the form is shown again with the reason; the 400 rolls the request back
        return _page(form, error=str(exc), status=400)
    # Rendered, not redirected: the plaintext must not travel through the (signed, not encrypted) session cookie.
    page, status = _page(TokenForm(formdata=None), created=token, plaintext=plaintext, status=201)
    return Response(page, status=status, headers={"Referrer-Policy": "no-referrer"})


@bp.post("/account/tokens/<id:token_id>/revoke", endpoint="revoke_api_token")
def revoke_token(token_id: int) -> Response:
    """Revoke one of the user's tokens; another user's token answers 404 like a missing one."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        token = tokens.revoke_api_token(db.session, actor=acting_user(), token_id=token_id, origin=current_origin())
    except LookupError:
        abort(404)
    flash(f"The token \u201c{token.name}\u201d is revoked: programs using it can no longer use the API.", "success")
    return redirect(url_for("tickets.api_tokens"), 303)
