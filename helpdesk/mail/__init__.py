"""Mail: an outbox table written in the caller's transaction, delivered afterwards with retries."""

from __future__ import annotations

from flask import Flask

from helpdesk.extensions import mail


def init_app(app: Flask) -> None:
    """Wire Flask-Mail to the app and register the `helpdesk mail` commands."""
    from helpdesk.mail.cli import mail_group

    mail.init_app(app)
    app.cli.add_command(mail_group)
