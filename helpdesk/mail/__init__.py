"""Mail: an outbox table written in the caller's transaction, delivered afterwards with retries."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the outbox services are Flask-free; keep Flask out of their import path
    from flask import Flask


def init_app(app: Flask) -> None:
    """Wire Flask-Mail to the app and register the `helpdesk mail` commands."""
    from helpdesk.extensions import mail
    from helpdesk.mail.cli import mail_group

    mail.init_app(app)
    app.cli.add_command(mail_group)
