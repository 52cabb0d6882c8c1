"""Second-factor pages: the code after the password, enrolment (at sign-in or by choice), recovery codes."""

from __future__ import annotations

import time

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.accounts.auth import finish_sign_in, is_locked
from helpdesk.accounts.forms import CodeForm
from helpdesk.accounts.mfa import enrol_totp, pending_enrolment, provisioning_uri, qr_svg, verify_second_factor
from helpdesk.accounts.models import User
from helpdesk.accounts.session import account_policy, current_origin, require_recent_sign_in, sign_in
from helpdesk.accounts.views import PENDING_SECONDS
from helpdesk.extensions import db
from helpdesk.orm import utcnow

bp = Blueprint("mfa", __name__)


def _pending_user() -> User | None:
    """Return the user who gave the right password a moment ago and still owes a second factor."""
    pending = session.get("pending")
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = db.session.get(User, pending.get("uid"))
    if user is None or not user.is_active or user.session_version != pending.get("sv"):
        return None
    # A lock set meanwhile (by guesses in another pending sign-in) stops this one too.
    return None if is_locked(user, utcnow()) else user


def _restart() -> Response:
    session.pop("pending", None)
    flash("Please sign in again.", "info")
    return redirect(url_for("accounts.login"), 303)


def _finish(user: User) -> Response:
    target = session.get("pending", {}).get("next", "/")
    sign_in(user)  # clears the pending state and starts the real session
    return redirect(target, 303)


@bp.route("/login/mfa", methods=["GET", "POST"])
def verify() -> Response | str:
    """Ask for the authenticator code (or a recovery code) after the password."""
    user = _pending_user()
    if user is None or not user.totp_secret:
        return _restart()
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        if verify_second_factor(
            db.session, user, form.code.data or "", origin=current_origin(), now=utcnow(), policy=account_policy()
        ):
            return _finish(user)
        db.keep_refused()  # the failure count (and any lockout) stands whatever the answer
        if user.locked_until is not None:
            return _restart()
        error = "That code is not right. Codes change every 30 seconds; use the newest one."
    return render_template("accounts/mfa_verify.html", form=form, error=error)


def _enrol_page(user: User, *, signing_in: bool) -> Response | str:
    # The session holds only the id of the enrolment under way: its secret stays in the database.
    asked = session.get("enrol_id")
    enrolment = pending_enrolment(db.session, user, asked, now=utcnow())
    session["enrol_id"] = enrolment.id
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        if asked != enrolment.id:  # renewed (it waited too long): the code was for the old secret
            error = "This setup waited too long and was renewed: scan the new code below and enter the code it shows."
        else:
            codes = enrol_totp(
                db.session, user, enrolment.secret, form.code.data or "", origin=current_origin(), now=utcnow()
            )
            if codes is not None:
                return _enrolled(user, codes, signing_in=signing_in)
            error = "That code is not right. Check the time on your phone and enter the newest code."
    # The enrolment under way is kept for the next page: the answer is a 200, committed at the request's end.
    return render_template(
        "accounts/mfa_enrol.html",
        form=form,
        error=error,
        secret=enrolment.secret,
        qr=qr_svg(provisioning_uri(user, enrolment.secret)),
    )


def _enrolled(user: User, codes: list[str], *, signing_in: bool) -> str:
    session.pop("enrol_id", None)
    continue_url = url_for("accounts.account")
    if signing_in:  # the code just proved the second factor: the sign-in is complete
        continue_url = session.get("pending", {}).get("next", "/")
        finish_sign_in(db.session, user, origin=current_origin(), now=utcnow(), how="password and new authenticator")
        sign_in(user)
    return render_template("accounts/mfa_codes.html", codes=codes, continue_url=continue_url)


@bp.route("/login/mfa/enrol", methods=["GET", "POST"])
def enrol() -> Response | str:
    """Enrol an authenticator during sign-in, for users whose role or state requires one."""
    user = _pending_user()
    if user is None:
        return _restart()
    if user.totp_secret:
        return redirect(url_for("mfa.verify"), 303)
    return _enrol_page(user, signing_in=True)


@bp.route("/account/mfa", methods=["GET", "POST"])
@login_required
def enrol_signed_in() -> Response | str:
    """Enrol (or replace) an authenticator by choice; only within 15 minutes of signing in."""
    stale = require_recent_sign_in(url_for("mfa.enrol_signed_in"))
    if stale is not None:
        return stale
    return _enrol_page(current_user._get_current_object(), signing_in=False)
