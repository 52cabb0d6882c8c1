"""placeholder: submit_views."""

from __future__ import annotations

from helpdesk.tickets.blueprint import bp  # noqa: F401
