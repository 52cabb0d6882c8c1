"""Request bodies: nothing reads one before the caller is known to be allowed to send it.

Runs before every other hook (the CSRF check reads the form): a body larger than the route's limit is refused
from its Content-Length (413) before a byte of it is read, and a signed-out caller of a signed-in page is sent
to the sign-in page without its body being read (a 15 MB upload costs nothing to refuse).
"""

from __future__ import annotations

from flask import Flask, abort, request
from flask_login import current_user
from werkzeug.wrappers import Response

from helpdesk.extensions import login_manager

#: Blueprints whose every page needs a signed-in user (each also checks it itself, and what it allows).
SIGNED_IN_BLUEPRINTS = frozenset({"tickets", "admin", "comments"})
#: Single pages elsewhere that need one.
SIGNED_IN_ENDPOINTS = frozenset({"mfa.enrol_signed_in"})
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def needs_sign_in(endpoint: str | None) -> bool:
    """Return whether the page at `endpoint` is for signed-in users only."""
    if endpoint is None:
        return False
    return endpoint.partition(".")[0] in SIGNED_IN_BLUEPRINTS or endpoint in SIGNED_IN_ENDPOINTS


def _guard_body() -> Response | None:
    if request.method in _SAFE:
        return None
    if needs_sign_in(request.endpoint) and not current_user.is_authenticated:
        return login_manager.unauthorized()
    limit, length = request.max_content_length, request.content_length
    if limit is not None and length is not None and length > limit:
        abort(413)
    return None


def init_app(app: Flask) -> None:
    """Register the guard ahead of every other `before_request` hook (call before the extensions)."""
    app.before_request_funcs.setdefault(None, []).insert(0, _guard_body)
