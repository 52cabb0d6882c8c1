"""Sign-in, sign-out, "What was my password again?", first-time links and the privacy policy."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from helpdesk.accounts.auth import (
    accept_privacy_policy,
    authenticate,
    check_link,
    finish_sign_in,
    set_password_from_link,
)
from helpdesk.accounts.forms import EmptyForm, ForgotForm, LoginForm, PrivacyForm, SetPasswordForm
from helpdesk.accounts.mfa import mfa_required
from helpdesk.accounts.reset_queue import reset_queue
from helpdesk.accounts.session import account_policy, current_origin, safe_next, sign_in, sign_out
from helpdesk.audit.services import record_event
from helpdesk.extensions import db, limiter
from helpdesk.orm import utcnow

bp = Blueprint("accounts", __name__)
GENERIC_FAILURE = (
    "That e-mail address and password did not work, or this account cannot sign in right now. "
    'Check the address and your caps lock, or use "What was my password again?".'
)
PENDING_SECONDS = 300  # time allowed between the password and the second factor
#: The address of a password just set, shown once on the sign-in page. Kept in the session, never in the URL,
#: where access logs, history and referrers would keep it.
JUST_SET = "just_set_email"


def _login_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ADDRESS"])


def _private(response: Response) -> Response:
    """Mark a page that carries a secret link: no referrer, no caching."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], scope="login")
def login() -> Response | str | tuple[str, int]:
    """Sign in with e-mail and password; the same answer for every kind of failure."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if not form.validate_on_submit():
        known = session.pop(JUST_SET, None) if request.method == "GET" else None
        if isinstance(known, str):
            form.email.data = known  # after a reset: only the new password is left to type
        return (
            render_template("accounts/login.html", form=form, known=bool(known)),
            400 if request.method == "POST" else 200,
        )
    policy, origin = account_policy(), current_origin()
    user = authenticate(
        db.session, form.email.data or "", form.password.data or "", origin=origin, now=utcnow(), policy=policy
    )
    if user is None:
        db.keep_refused()  # the failure count, any lockout and its audit row are kept whatever the answer
        return render_template("accounts/login.html", form=form, error=GENERIC_FAILURE), 200
    target = safe_next(request.args.get("next"))
    if mfa_required(db.session, user, policy):
        session.clear()
        session["pending"] = {"uid": user.id, "sv": user.session_version, "at": time.time(), "next": target}
        record_event(
            db.session,
            "sign_in",
            outcome="pending",
            origin=origin,
            actor_id=user.id,
            actor_email=user.email,
            state_code=user.state_code,
            detail="password right; second factor owed",
        )
        return redirect(url_for("mfa.verify" if user.totp_secret else "mfa.enrol"), 303)
    finish_sign_in(db.session, user, origin=origin, now=utcnow(), how="password")
    sign_in(user)
    return redirect(target, 303)


@bp.post("/logout")
def logout() -> Response:
    """Sign out (POST with CSRF: a link elsewhere cannot sign anyone out)."""
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        # A signed cookie cannot be revoked alone: bumping the version ends every copy of it (all devices).
        current_user.session_version += 1
        record_event(
            db.session,
            "sign_out",
            origin=current_origin(),
            actor_id=current_user.id,
            actor_email=current_user.email,
            state_code=current_user.state_code,
        )
    sign_out()
    flash("You are signed out.", "success")
    return redirect(url_for("kb.home"), 303)


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"], scope="forgot")
def forgot() -> Response:
    """Ask for a reset link; the answer is the same whether or not the address has an account."""
    form = ForgotForm()
    if form.validate_on_submit():
        # Handled after the answer, for every address alike: the time taken tells nothing about the account.
        reset_queue(current_app).submit(form.email.data or "", origin=current_origin(), now=utcnow())
        page = render_template("accounts/forgot_sent.html", minutes=_link_minutes())
        return _private(make_response(page))
    status = 400 if request.method == "POST" else 200
    return _private(make_response(render_template("accounts/forgot.html", form=form), status))


def _link_minutes() -> int:
    return int(account_policy().link_lifetime.total_seconds() // 60)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"], scope="reset")
def reset(token: str) -> Response:
    """Choose a new password from a reset or first-time link (single use, 20 minutes)."""
    link = check_link(db.session, token, now=utcnow())
    if link is None:
        record_event(
            db.session,
            "password_link_opened",
            outcome="failure",
            origin=current_origin(),
            detail="invalid or expired link",
        )
        db.keep_refused()  # the audit row of the refused link stands although the answer is a 410
        return _private(make_response(render_template("accounts/reset_invalid.html", minutes=_link_minutes()), 410))
    form = SetPasswordForm()
    problems: list[str] = []
    if form.validate_on_submit():
        user, problems = set_password_from_link(
            db.session, token, form.password.data or "", origin=current_origin(), now=utcnow(), policy=account_policy()
        )
        db.keep_refused()  # a refused password's audit row stands although the form is shown again (400)
        if user is not None:
            sign_out()  # not signed in by the link: the new password is used at the sign-in page
            session[JUST_SET] = user.email
            flash("Your password is set. Sign in with it now.", "success")
            return _private(redirect(url_for("accounts.login"), 303))
    status = 400 if request.method == "POST" else 200
    page = render_template(
        "accounts/reset.html",
        form=form,
        problems=problems,
        first_time=link.purpose == "first_time",
        min_length=account_policy().passwords.min_length,
    )
    return _private(make_response(page, status))


@bp.route("/privacy", methods=["GET", "POST"])
def privacy() -> Response | str | tuple[str, int]:
    """Show the privacy policy; a signed-in user who has not accepted the current version must accept it."""
    policy = account_policy()
    needs = current_user.is_authenticated and current_user.privacy_version != policy.privacy_version
    form = PrivacyForm()
    if needs and form.validate_on_submit():
        accept_privacy_policy(
            db.session,
            current_user._get_current_object(),
            policy.privacy_version,
            origin=current_origin(),
            now=utcnow(),
        )
        flash("Thank you. You can now use the help desk.", "success")
        return redirect(safe_next(request.args.get("next")), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/privacy.html", form=form, needs=needs, version=policy.privacy_version), status


@bp.get("/account")
@login_required
def account() -> str:
    """Show the signed-in user's account."""
    return render_template(
        "accounts/account.html",
        policy=account_policy(),
        mfa_needed=mfa_required(db.session, current_user, account_policy()),
    )
