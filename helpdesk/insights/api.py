"""JSON API v1 reports: `GET /api/v1/reports/content-gaps` and `GET /api/v1/reports/desk` (same scope as the pages)."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

from helpdesk.api.tickets import _authenticate
from helpdesk.errors import error_response
from helpdesk.extensions import csrf, db
from helpdesk.insights.scope import ReportInputError, parse_period
from helpdesk.insights.services import read_content_report, read_desk_report
from helpdesk.insights.views import article_titles, business_calendar, today

bp = Blueprint("api_reports", __name__)
csrf.exempt(bp)  # GET only; the shared authentication checks the session's token where it matters
bp.before_request(_authenticate)

_FORBIDDEN = (
    "Reports are open to national administrators, compact offices, state administrators, supervisors "
    "and local IT, each for their own state or agency."
)


def _answer(kind: str) -> Response:
    user = g.api_user
    try:
        period = parse_period(request.args.get("from"), request.args.get("to"), today=today())
        state = request.args.get("state") or None
        if state is not None and (len(state) != 2 or not state.isalpha()):
            raise ReportInputError("state must be a two-letter state code")
        if kind == "content":
            report = read_content_report(db.session, user, period, state, article_titles(), full=False).to_api()
        else:
            report = read_desk_report(db.session, user, period, state, calendar=business_calendar, full=False).to_api()
    except PermissionError as exc:  # a ReportInputError answers 400 through the app's DomainError handler
        return error_response(403, f"{exc}. {_FORBIDDEN}", "forbidden")
    db.session.rollback()  # read only
    return jsonify(report)


@bp.get("/api/v1/reports/content-gaps")
def content_gaps() -> Response:
    """Failed searches (no result, no hit opened) and unhelpful articles: `from`, `to` (dates), `state`."""
    return _answer("content")


@bp.get("/api/v1/reports/desk")
def desk() -> Response:
    """Requests opened and resolved, deflections and SLA attainment per tier: `from`, `to` (dates), `state`."""
    return _answer("desk")
