"""User administration for state and national administrators: users, inactive-users report, audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # queries and services are Flask-free; keep Flask out of their import path
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register the `admin` blueprint (its routes live in views.py, reports.py and audit_views.py)."""
    from helpdesk.admin import audit_views, reports, views  # noqa: F401  (importing them adds their routes to the blueprint)
    from helpdesk.admin.blueprint import bp

    app.register_blueprint(bp)
