"""Accounts: organisation, users and roles, sign-in with lockout and second factor, password reset, privacy."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # services and models are Flask-free; keep Flask out of their import path
    from flask import Flask


def init_app(app: Flask) -> None:
    """Wire sessions and the account blueprints."""
    from helpdesk.accounts import reset_queue, session
    from helpdesk.accounts.mfa_views import bp as mfa_bp
    from helpdesk.accounts.passwords import use_fast_hashing
    from helpdesk.accounts.views import bp as accounts_bp

    use_fast_hashing(bool(app.testing and app.config.get("PASSWORD_FAST_HASH")))
    session.init_app(app)
    reset_queue.init_app(app)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(mfa_bp)
