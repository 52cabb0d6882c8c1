"""Request limits: nothing reads a body before the caller may send it, URLs are bounded, echoes are clipped.

The guard runs before every other hook (the CSRF check reads the form): a signed-out caller of a signed-in page
is sent to sign in without its body being read (a 15 MB upload costs nothing to refuse), a body larger than the
route's limit is refused from its Content-Length (413) before a byte of it is read, and an /api/ URL longer
than MAX_URL_BYTES is a JSON 414 (as the OpenAPI document says; pages take what the server passes). A form
shown again with the typed text keeps at most each field's limit.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, before_render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import Form
from wtforms.validators import Length

from helpdesk.extensions import login_manager

#: Blueprints whose every page needs a signed-in user (each also checks it itself, and what it allows).
SIGNED_IN_BLUEPRINTS = frozenset({"tickets", "admin", "comments", "editor"})
#: Single pages elsewhere that need one.
SIGNED_IN_ENDPOINTS = frozenset({"mfa.enrol_signed_in"})
#: Path and query of an /api/ URL: gunicorn's own default request-line limit. `serve` lets gunicorn take lines up
#: to 8,190 bytes, so that the app answers these itself in JSON; longer lines get gunicorn's own 414.
MAX_URL_BYTES = 4094
SERVER_REQUEST_LINE_LIMIT = 8190
#: What a form field without a Length validator shows again at most.
DEFAULT_ECHO_LIMIT = 10_000
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def needs_sign_in(endpoint: str | None) -> bool:
    """Return whether the page at `endpoint` is for signed-in users only."""
    if endpoint is None:
        return False
    return endpoint.partition(".")[0] in SIGNED_IN_BLUEPRINTS or endpoint in SIGNED_IN_ENDPOINTS


def _guard() -> Response | None:
    if request.path.startswith("/api/") and len(request.path.encode()) + len(request.query_string) + 1 > MAX_URL_BYTES:
        abort(414, f"The address is too long: at most {MAX_URL_BYTES:,} bytes of path and query.")
    if request.method in _SAFE:
        return None
    if needs_sign_in(request.endpoint) and not current_user.is_authenticated:
        return login_manager.unauthorized()
    limit, length = request.max_content_length, request.content_length
    if limit is not None and length is not None and length > limit:
        abort(413)
    return None


def field_limit(field: Any) -> int:
    """Return the most characters `field` accepts (its Length validator), or DEFAULT_ECHO_LIMIT."""
    limits = [
        v.max for v in getattr(field, "validators", ()) if isinstance(v, Length) and v.max is not None and v.max >= 0
    ]
    return min(limits, default=DEFAULT_ECHO_LIMIT)


def clip_form(form: Form) -> None:
    """Cut what each field shows again to its limit (the refusal already said it was too long)."""
    for field in form:
        limit = field_limit(field)
        if isinstance(field.data, str) and len(field.data) > limit:
            field.data = field.data[:limit]
        if field.raw_data:
            field.raw_data = [v[:limit] if isinstance(v, str) else v for v in field.raw_data]


def _clip_forms(_app: Flask, template: object, context: dict[str, Any], **_extra: Any) -> None:
    for value in context.values():
        if isinstance(value, Form):
            clip_form(value)


def init_app(app: Flask) -> None:
    """Register the guard ahead of every other `before_request` hook (call before the extensions)."""
    app.before_request_funcs.setdefault(None, []).insert(0, _guard)
    before_render_template.connect(_clip_forms, app)
