"""Signed-in sessions: Flask-Login wiring, idle and absolute timeouts, per-user session version, gates."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from helpdesk.accounts.models import User
from helpdesk.accounts.policy import AccountPolicy
from helpdesk.audit.services import Origin
from helpdesk.extensions import db, login_manager
from helpdesk.orm import utcnow

#: Reachable before the privacy policy is accepted.
_PRIVACY_EXEMPT = {"static", "accounts.privacy", "accounts.logout", "api.healthz", "api.openapi"}
_SEEN_WRITE_SECONDS = 300  # last_seen_at is for the 90-day report: a write every 5 minutes is plenty


def account_policy() -> AccountPolicy:
    """Return the account policy of the current app."""
    policy: AccountPolicy = current_app.extensions["helpdesk.account_policy"]
    return policy


def acting_user() -> User:
    """Return the signed-in user (the real object, to pass to services)."""
    user: User = current_user._get_current_object()
    return user


def current_origin() -> Origin:
    """Return where the current request comes from (ProxyFix makes remote_addr the real client)."""
    return Origin(ip=request.remote_addr, user_agent=(request.user_agent.string or "")[:255] or None)


def safe_next(target: str | None, default: str = "/") -> str:
    """Return `target` only when it is a path on this site: no scheme, host, backslash or control character."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(ch) < 32 for ch in target):
        return default
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else default


#: Sensitive changes (user administration, a new authenticator) need a sign-in this recent, not just a live session.
RECENT_SIGN_IN_SECONDS = 15 * 60


def require_recent_sign_in(next_path: str) -> Response | None:
    """Return a redirect to sign in again when the session's sign-in is older than 15 minutes, else None."""
    if time.time() - session.get("auth_at", 0.0) <= RECENT_SIGN_IN_SECONDS:
        return None
    sign_out()
    flash("For your security, sign in again to make this change.", "info")
    return redirect(url_for("accounts.login", next=safe_next(next_path)), 303)


def sign_in(user: User) -> None:
    """Start a fresh session for `user` (nothing of the signed-out session is kept: no fixation)."""
    session.clear()
    login_user(user, remember=False, fresh=True)
    now = time.time()
    session["auth_at"] = now
    session["seen_at"] = now


def sign_out() -> None:
    """End the session."""
    logout_user()
    session.clear()


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    # Deactivated users and sessions of an older version (reset, role change) are refused on every request.
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def _enforce_session() -> Response | None:
    if not current_user.is_authenticated:
        return None
    policy, now = account_policy(), time.time()
    auth_at, seen_at = session.get("auth_at", 0.0), session.get("seen_at", 0.0)
    if now - seen_at > policy.idle_timeout.total_seconds() or now - auth_at > policy.absolute_timeout.total_seconds():
        sign_out()
        if request.path.startswith("/api/"):  # a script or the page's JavaScript: an answer it can read
            from helpdesk.errors import error_response

            response = error_response(401, "Your session has ended: sign in again.", "session_expired")
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        flash("Your session ended after a period of inactivity. Please sign in again.", "info")
        return redirect(url_for("accounts.login", next=request.full_path if request.method == "GET" else None))
    session["seen_at"] = now
    user = acting_user()
    stamp = utcnow()
    if user.last_seen_at is None or (stamp - user.last_seen_at).total_seconds() > _SEEN_WRITE_SECONDS:
        user.last_seen_at = stamp
        # A usage stamp, kept even when the request is then refused: committed here, not at the request's end.
        db.session.commit()
    if user.privacy_version != policy.privacy_version and request.endpoint not in _PRIVACY_EXEMPT:
        if request.path.startswith("/api/"):
            from helpdesk.errors import error_response

            return error_response(403, "Accept the privacy policy at /privacy first.", "privacy_not_accepted")
        return redirect(url_for("accounts.privacy", next=request.full_path))
    return None


def init_app(app: Flask) -> None:
    """Configure Flask-Login and the per-request session checks."""
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    app.config.setdefault("REMEMBER_COOKIE_DURATION", 0)  # no remember-me: sessions end with the browser
    app.extensions["helpdesk.account_policy"] = AccountPolicy.from_config(app.config)
    app.before_request(_enforce_session)
