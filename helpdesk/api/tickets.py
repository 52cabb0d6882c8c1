"""JSON API v1 for requests: file one, read one, list those the caller may see (session + CSRF, or a bearer token)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from helpdesk.accounts.api_tokens import authenticate_token
from helpdesk.accounts.models import User
from helpdesk.accounts.session import account_policy, current_origin
from helpdesk.api.token_failures import count_token_failure
from helpdesk.domain_errors import DomainError
from helpdesk.errors import error_response
from helpdesk.extensions import csrf, db
from helpdesk.ids import parse_id
from helpdesk.tickets.history import record_ticket_access
from helpdesk.tickets.models import STATUSES, Ticket, TicketEvent
from helpdesk.tickets.queries import MAX_PER_PAGE, get_visible_ticket, list_ticket_events, list_visible_tickets
from helpdesk.tickets.submit import IDEMPOTENCY_KEY, MAX_SUGGESTIONS, submit_ticket
from helpdesk.tickets.web.blueprint import triage

bp = Blueprint("api_tickets", __name__)
# The global check would refuse bearer-token callers; _authenticate applies it to session callers instead.
csrf.exempt(bp)

#: The JSON fields and whether each is required; what their values may be is the submit service's to say.
_TEXT = {
    "category": True,
    "subject": True,
    "description": True,
    "tried": False,
    "affected": False,
    "idempotency_key": False,
}
_FIELDS = (*_TEXT, "suggestions")


class _Invalid(DomainError):
    """A bad request field: its name and the message for the client."""

    status = 422

    def __init__(self, field: str, message: str, code: str | None = None) -> None:
        super().__init__(message, field=field)
        self.code = code or f"invalid_{field}"


def _invalid(exc: _Invalid, status: int = 422) -> Response:
    response = jsonify(error=exc.code, message=str(exc), field=exc.field)
    response.status_code = status
    return response


def _unauthorized(message: str, code: str) -> Response:
    response = error_response(401, message, code)
    challenge = 'Bearer realm="helpdesk"'
    response.headers["WWW-Authenticate"] = challenge + (', error="invalid_token"' if code == "invalid_token" else "")
    return response


@bp.before_request
def _authenticate() -> Response | None:
    """Find the caller: a bearer token (this request only, no session), else the signed-in session with CSRF."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, plaintext = header.strip().partition(" ")
        bearer = plaintext.strip() if scheme.lower() == "bearer" else ""
        user = authenticate_token(db.session, bearer) if bearer else None
        if user is None:  # never fall back to the session: that would skip its CSRF check
            wait = count_token_failure(bearer)
            if wait is not None:
                response = error_response(429, "Too many wrong API tokens. Please wait a minute and try again.")
                response.headers["Retry-After"] = str(wait)
                return response
            return _unauthorized(
                "The API token is not valid: it is mistyped, revoked, or its user is deactivated.", "invalid_token"
            )
        # A usage stamp, kept even when the request is then refused: committed here, not at the request's end. Only
        # when there is one (every TOUCH_SECONDS): an empty commit is two more round trips for every API request.
        if db.session.dirty:
            db.session.commit()  # last_used_at
    else:
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            try:
                csrf.protect()
            except CSRFError as exc:
                return error_response(
                    400, f"{exc.description} Send the page's CSRF token in the X-CSRFToken header.", "csrf_failed"
                )
        if not current_user.is_authenticated:
            return _unauthorized(
                "Sign in, or send a personal API token as 'Authorization: Bearer <token>'.", "unauthorized"
            )
        user = current_user._get_current_object()
    if user.privacy_version != account_policy().privacy_version:
        return error_response(403, "Accept the privacy policy at /privacy first.", "privacy_not_accepted")
    g.api_user = user
    return None


def _caller() -> User:
    user: User = g.api_user
    return user


def _person(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.id, "name": user.name}


def _when(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _event_json(event: TicketEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "public": event.public,
        "created_at": _when(event.created_at),
        "actor": _person(event.actor),
        "body": event.body,
        "reason": event.reason,
    }


def ticket_json(ticket: Ticket, viewer: User, *, events: bool) -> dict[str, Any]:
    """Return a ticket as the API shows it to `viewer`; `events` adds its history (internal notes for staff)."""
    body: dict[str, Any] = {
        "id": ticket.id,
        "url": triage().ticket_link(ticket.id),
        "category": ticket.category,
        "subject": ticket.subject,
        "description": ticket.description,
        "tried": ticket.tried,
        "affected": ticket.affected,
        "status": ticket.status,
        "tier": ticket.tier,
        "assignee": _person(ticket.assignee),
        "reporter": _person(ticket.reporter),
        "agency": {"id": ticket.agency.id, "name": ticket.agency.name},
        "state": ticket.state_code,
        "route_reason": ticket.route_reason,
        "incident": ticket.incident_id,
        "created_at": _when(ticket.created_at),
        "updated_at": _when(ticket.updated_at),
        "first_response_due": _when(ticket.first_response_due),
        "resolution_due": _when(ticket.resolution_due),
        "resolved_at": _when(ticket.resolved_at),
        "closed_at": _when(ticket.closed_at),
        "version": ticket.version,
    }
    if events:
        body["events"] = [_event_json(e) for e in list_ticket_events(db.session, ticket, viewer)]
    return body


def _idempotency_key(data: dict[str, Any]) -> str:
    """Return the client's key (body or Idempotency-Key header), or a fresh one: then a resend files twice."""
    header, body = request.headers.get("Idempotency-Key"), data.get("idempotency_key")
    if header is not None and body is not None and header != body:
        raise _Invalid("idempotency_key", 'The Idempotency-Key header and "idempotency_key" differ: send one.')
    key = body if body is not None else header
    if key is None:
        return secrets.token_hex(16)
    if not IDEMPOTENCY_KEY.match(key):
        raise _Invalid("idempotency_key", '"idempotency_key" must be 8 to 64 letters, digits or ._:- characters.')
    return key


def _submission(data: dict[str, Any]) -> dict[str, Any]:
    """Return submit_ticket's arguments from the JSON body, or raise _Invalid naming the first field of a wrong
    JSON shape (missing, unknown, not a string); the values themselves are checked by the service."""
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise _Invalid(unknown[0], f'Unknown field "{unknown[0]}": send only {", ".join(_FIELDS)}.', "unknown_field")
    values: dict[str, Any] = {}
    for name, required in _TEXT.items():
        value = data.get(name)
        if value is None and required:
            raise _Invalid(name, f'"{name}" is required.')
        if value is not None and not isinstance(value, str):
            raise _Invalid(name, f'"{name}" must be a string.')
        values[name] = value
    suggestions = data.get("suggestions", [])
    if (
        not isinstance(suggestions, list)
        or len(suggestions) > MAX_SUGGESTIONS
        or not all(isinstance(s, str) for s in suggestions)
    ):
        raise _Invalid(
            "suggestions",
            f'"suggestions" must be a list of at most {MAX_SUGGESTIONS} strings ("article-slug#question-id").',
        )
    values.update(
        idempotency_key=_idempotency_key(data),
        suggestions=suggestions,
        tried=values["tried"] or "",
        affected=values["affected"] or "unknown",
    )
    return values


@bp.post("/api/v1/tickets")
def create_ticket() -> Response:
    """File a request: 201 with the new ticket, or 200 with the one the same idempotency key already made."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error_response(
            400,
            'Send a JSON object such as {"category": "login", "subject": "...", "description": "..."}.',
            "invalid_json",
        )
    user = _caller()
    try:  # _Invalid and TicketError answer 422 through the app's DomainError handler
        submission = submit_ticket(db.session, triage(), reporter=user, origin=current_origin(), **_submission(data))
    except PermissionError:
        return error_response(403, "This account cannot file requests.")
    # The report's category stays locked until the commit: its answer (history, JSON) is built after it.
    db.commit_now()
    response = jsonify(ticket_json(submission.ticket, user, events=True))
    response.status_code = 201 if submission.created else 200
    response.headers["Location"] = f"/api/v1/tickets/{submission.ticket.id}"
    return response


@bp.get("/api/v1/tickets/<id:ticket_id>")
def get_ticket(ticket_id: int) -> Response:
    """Return one ticket with its history; one the caller may not see is 404, exactly like a missing one."""
    user = _caller()
    ticket = get_visible_ticket(db.session, user, ticket_id)
    if ticket is None:
        return error_response(404, f"There is no request {ticket_id}.")
    record_ticket_access(
        db.session, actor=user, origin=current_origin(), action="ticket_viewed", ticket=ticket, detail="api"
    )
    return jsonify(ticket_json(ticket, user, events=True))


def _whole(name: str, default: int, maximum: int) -> int:
    number = parse_id(request.args.get(name, str(default)))
    if number is None or number > maximum:
        raise _Invalid(name, f"{name} must be a whole number from 1 to {maximum}.")
    return number


@bp.get("/api/v1/tickets")
def list_tickets() -> Response:
    """List the tickets the caller may see, newest first: `status` (repeatable or comma-separated), `category`,
    `page`, `per_page` (at most 100)."""
    user = _caller()
    statuses = [s for value in request.args.getlist("status") for s in value.split(",") if s]
    category = request.args.get("category") or None
    try:
        if set(statuses) - set(STATUSES):
            raise _Invalid("status", f"status must be among: {', '.join(STATUSES)}.")
        if category is not None and category not in triage().policy.categories:
            raise _Invalid("category", f"category must be one of: {', '.join(triage().policy.categories)}.")
        page, per_page = _whole("page", 1, 100_000), _whole("per_page", 25, MAX_PER_PAGE)
    except _Invalid as exc:
        return _invalid(exc, 400)
    found = list_visible_tickets(db.session, user, statuses=statuses, category=category, page=page, per_page=per_page)
    # A listing is an export of requests: the audit trail says which ones were read.
    record_ticket_access(
        db.session,
        actor=user,
        origin=current_origin(),
        action="tickets_listed",
        detail=f"api page {found.page}: " + " ".join(f"#{t.id}" for t in found.items),
    )
    return jsonify(
        tickets=[ticket_json(t, user, events=False) for t in found.items],
        total=found.total,
        page=found.page,
        per_page=found.per_page,
        pages=found.pages,
    )
