"""Insights: the content-gap report and the desk's dashboard (pages, API, command line), and search-log retention."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the report services are Flask-free; keep Flask out of their import path
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register the insight pages, the report API and the `report` and `searchlog` commands."""
    from helpdesk.insights.api import bp as api_bp
    from helpdesk.insights.cli import report_group, searchlog_group
    from helpdesk.insights.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    app.cli.add_command(report_group)
    app.cli.add_command(searchlog_group)
