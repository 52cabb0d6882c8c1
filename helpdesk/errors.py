"""Error pages: JSON `{"error", "message"[, "field"]}` under /api/, HTML elsewhere; never a traceback."""

from __future__ import annotations

import logging
import uuid

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

from helpdesk.domain_errors import DomainError

log = logging.getLogger(__name__)

#: Short machine codes for the JSON `error` field.
CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def wants_json() -> bool:
    """Return whether the client should get JSON errors (API paths and JSON callers)."""
    return request.path.startswith("/api/") or request.path == "/healthz" or request.is_json


def error_response(status: int, message: str, code: str | None = None) -> Response:
    """Return a JSON or HTML error response with `status`."""
    code = code or CODES.get(status, "error")
    if wants_json():
        response = jsonify(error=code, message=message)
    else:
        response = Response(render_template("error.html", status=status, message=message), mimetype="text/html")
    response.status_code = status
    return response


def _handle_domain(exc: DomainError) -> Response:
    """Answer a refusal a service raised: its status, and under /api/ its code and field (the request rolled back)."""
    if not wants_json():
        return error_response(exc.status, exc.message)
    body: dict[str, object] = {"error": exc.code, "message": exc.message}
    if exc.field is not None:
        body["field"] = exc.field
    response = jsonify({**body, **exc.details()})
    response.status_code = exc.status
    return response


def _handle_http(exc: HTTPException) -> Response:
    status = exc.code or 500
    message = exc.description or "Something went wrong."
    if status == 429:
        message = "Too many requests in a short time. Please wait a minute and try again."
    elif status == 404 and not request.path.startswith("/api/"):
        message = "There is no page at this address. Try searching for what you need."
    if status == 403:
        _audit_denied()
    response = error_response(status, message)
    for header in ("Retry-After", "Allow"):  # 429 says when to come back, 405 which methods work
        if exc.get_response().headers.get(header):
            response.headers[header] = exc.get_response().headers[header]
    return response


def _audit_denied() -> None:
    """Write the refusal to the audit trail in a transaction of its own (CJIS AU-2: denied access is audited)."""
    from flask import g
    from flask_login import current_user

    from helpdesk.accounts.session import current_origin
    from helpdesk.audit.services import record_event
    from helpdesk.extensions import db

    user = current_user if current_user.is_authenticated else g.get("api_user")  # a session, or an API token
    try:
        # The request lifecycle rolled the refused request's work back before this handler ran.
        record_event(
            db.session,
            "access_denied",
            origin=current_origin(),
            outcome="failure",
            actor_id=user.id if user else None,
            actor_email=user.email if user else None,
            state_code=user.state_code if user else None,
            detail=f"{request.method} {request.path}",
        )
        db.keep_refused()  # committed at the end of the request although it answers 403
    except Exception:  # the refusal must still reach the person even if the database is down
        log.exception("could not audit a denied request to %s", request.path)
        db.session.rollback()


#: Seconds a client is asked to wait when the database is unavailable (a restart or fail-over takes a few).
RETRY_AFTER_SECONDS = 5


def _handle_database(exc: Exception) -> Response:
    from helpdesk.orm import is_unavailable

    if not is_unavailable(exc):
        return _handle_unexpected(exc)
    log.warning("database unavailable on %s %s: %s", request.method, request.path, str(exc).splitlines()[0])
    response = error_response(503, "The service is briefly unavailable. Please try again in a few seconds.")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _handle_unexpected(exc: Exception) -> Response:
    incident = uuid.uuid4().hex[:12]
    log.exception("unhandled error %s on %s %s", incident, request.method, request.path)
    message = f"Something went wrong on our side. If it keeps happening, quote reference {incident}."
    if isinstance(exc, InternalServerError) and exc.original_exception is None:
        message = exc.description or message
    return error_response(500, message)


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(DomainError, _handle_domain)
    app.register_error_handler(Exception, _handle_unexpected)
    for error in (DBAPIError, DisconnectionError, PoolTimeoutError):  # more specific than Exception: chosen first
        app.register_error_handler(error, _handle_database)
