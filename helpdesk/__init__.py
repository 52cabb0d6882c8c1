"""Helpdesk: a self-service help desk and knowledge base (the Flask app factory is `helpdesk.app.create_app`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the domain packages are Flask-free: importing `helpdesk` must not load Flask
    from helpdesk.app import create_app as create_app


def __getattr__(name: str) -> Any:
    """Import the app factory on first use, so that `from helpdesk import create_app` keeps working."""
    if name == "create_app":
        from helpdesk.app import create_app

        return create_app
    raise AttributeError(f"module 'helpdesk' has no attribute {name!r}")
