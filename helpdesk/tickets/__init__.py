"""Tickets: self-help first, then a request routed to local IT, the state compact office or the national office."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the ticket services are Flask-free; keep Flask out of their import path
    from flask import Flask


def init_app(app: Flask) -> None:
    """Load the triage policy, register tickets as users' open work, and add the `escalate` and `triage` commands."""
    from helpdesk.accounts.api_tokens import install_token_revocation
    from helpdesk.tickets.cli import init_cli
    from helpdesk.tickets.context import EXTENSION_KEY, Triage
    from helpdesk.tickets.workload import install_work_provider

    triage = Triage.from_config(app.config)
    app.extensions[EXTENSION_KEY] = triage
    install_work_provider(triage)
    install_token_revocation()
    init_cli(app)
    from helpdesk.accounts import api_token_views  # noqa: F401  (the API tokens page, on the tickets blueprint)
    from helpdesk.tickets.web import (  # noqa: F401  (importing a views module adds its routes to the blueprint)
        actions,
        attachments,
        caseload,
        explain,
        queue,
        queue_bulk,
        submit,
        ticket,
    )
    from helpdesk.tickets.web.blueprint import bp

    app.register_blueprint(bp)
