"""The insight pages: /insights/content (content gaps, with its actions) and /insights/desk, each with CSV tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse  # what redirect() returns

from helpdesk.accounts.models import User
from helpdesk.accounts.permissions import is_national
from helpdesk.accounts.session import current_origin
from helpdesk.admin.queries import list_states
from helpdesk.extensions import db, login_manager
from helpdesk.insights.charts import bar_chart, series_chart
from helpdesk.insights.forms import HandledForm, PhrasingForm
from helpdesk.insights.scope import Period, Report, ReportInputError, can_see, parse_period
from helpdesk.insights.services import (
    GapActionError,
    add_gap_phrasing,
    can_handle_gaps,
    handle_gap,
    handling_history,
    read_content_report,
    read_desk_report,
)
from helpdesk.insights.tables import Table, content_tables, desk_tables, table_csv
from helpdesk.kb import get_library
from helpdesk.orm import utcnow
from helpdesk.search.documents import document_key
from helpdesk.triage.sla import BusinessCalendar

bp = Blueprint("insights", __name__, url_prefix="/insights")


def today() -> dt.date:
    """Return today's UTC date (reports count whole UTC days)."""
    return utcnow().date()


def article_titles() -> dict[str, str]:
    """Return the published articles' titles by slug."""
    return {slug: article.title for slug, article in get_library().articles.items()}


def question_choices() -> list[tuple[str, str]]:
    """Return every search document a phrasing can lead to: (key, "Article › Question")."""
    choices = []
    for article in sorted(get_library().articles.values(), key=lambda a: a.title.lower()):
        choices += [(document_key(article.slug, q.id), f"{article.title} \u203a {q.text}") for q in article.questions]
        if not article.questions:
            choices.append((article.slug, article.title))
    return choices


def business_calendar(time_zone: str) -> BusinessCalendar:
    """Return the business calendar of the triage policy in an agency's time zone."""
    from helpdesk.tickets.web.blueprint import triage

    return triage().policy.calendar(time_zone)


def _viewer(report: Report) -> User:
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    if not can_see(current_user, report):
        abort(403)
    user: User = current_user._get_current_object()
    return user


def _period() -> Period:
    return parse_period(request.args.get("from"), request.args.get("to"), today=today())


def _filters(user: User, error: str | None, period: Period | None = None) -> dict[str, Any]:
    """Return the filter form's values: as typed, else the period shown."""
    first = request.args.get("from") or (period.first.isoformat() if period else "")
    last = request.args.get("to") or (period.last.isoformat() if period else "")
    return {
        "error": error,
        "first": first,
        "last": last,
        "state": (request.args.get("state") or "").upper(),
        "states": list_states(db.session) if is_national(user) else [],
    }


def _csv(tables: list[Table], report: str, period: Period) -> Response:
    wanted = request.args.get("table", "")
    table = next((t for t in tables if t.name == wanted), None)
    if table is None:
        abort(404)
    name = f"{report}-{table.name}-{period.first}-{period.last}.csv"
    return Response(
        table_csv(table), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _content_page(user: User, *, status: int = 200, form_error: str | None = None) -> tuple[str, int]:
    try:
        period = _period()
        report = read_content_report(db.session, user, period, request.args.get("state"), article_titles())
    except ReportInputError as exc:
        return render_template("insights/content.html", report=None, **_filters(user, str(exc))), 400
    except PermissionError:
        abort(403)
    titles = article_titles()
    tables = {t.name: t for t in content_tables(report, titles)}
    charts = {
        "zero_result": bar_chart(
            "Searches with no result",
            "Searches per query that found nothing, most first.",
            [(g.query, g.searches) for g in report.zero_result[:10]],
            value_label="Searches",
        ),
        "no_click": bar_chart(
            "Searches whose results nobody opened",
            "Searches per query, most first.",
            [(g.query, g.searches) for g in report.no_click[:10]],
            value_label="Searches",
        ),
        "deflections_by_category": bar_chart(
            "Deflections per category",
            "Requests answered by self-help, per category.",
            [(c, n) for c, n in report.deflections_by_category],
            value_label="Deflections",
        ),
    }
    db.session.rollback()
    return render_template(
        "insights/content.html",
        report=report,
        tables=tables,
        charts=charts,
        period=period,
        can_handle=can_handle_gaps(user),
        choices=question_choices() if can_handle_gaps(user) else [],
        phrasing_form=PhrasingForm(),
        handled_form=HandledForm(),
        form_error=form_error,
        history=handling_history(db.session, 20) if can_handle_gaps(user) else [],
        **_filters(user, None, period),
    ), status


@bp.get("/content")
def content() -> tuple[str, int]:
    """Show the content gaps of a period (default: the last 30 days) in the viewer's scope."""
    return _content_page(_viewer("content"))


@bp.get("/content.csv")
def content_csv() -> Response:
    """Download one table of the content-gap report (`table`) as CSV, same scope and period as the page."""
    user = _viewer("content")
    try:
        period = _period()
        report = read_content_report(db.session, user, period, request.args.get("state"), article_titles())
    except (ReportInputError, PermissionError):
        abort(400)
    db.session.rollback()
    return _csv(content_tables(report, article_titles()), "content-gaps", period)


def _back() -> BaseResponse:
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k in ("from", "to", "state")}
    return redirect(url_for("insights.content", **args), 303)


@bp.post("/content/phrasing")
def add_phrasing() -> BaseResponse | tuple[str, int]:
    """Make a failed query a phrasing of the chosen question: indexed at once; the item leaves the list."""
    user = _viewer("content")
    if not can_handle_gaps(user):
        abort(403)
    form = PhrasingForm()
    form.question.choices = question_choices()
    if not form.validate_on_submit():
        errors = [e for field in form for e in field.errors]
        return _content_page(user, status=400, form_error=errors[0] if errors else "The form expired; try again.")
    keys = {key for key, _label in form.question.choices}
    try:
        row = add_gap_phrasing(
            db.session,
            actor=user,
            origin=current_origin(),
            kind=form.kind.data or "",
            query=form.query.data or "",
            question_key=form.question.data,
            known_keys=keys.__contains__,
        )
    except GapActionError as exc:  # the form is shown again with the reason; the 400 rolls the request back
        return _content_page(user, status=400, form_error=str(exc))
    flash(f"\u201c{row.phrase}\u201d is now a phrasing of that question; search finds it within seconds.", "success")
    return _back()


@bp.post("/content/handled")
def mark_handled() -> BaseResponse | tuple[str, int]:
    """Mark an item handled (an article was written or changed): it leaves the list, its history stays."""
    user = _viewer("content")
    if not can_handle_gaps(user):
        abort(403)
    form = HandledForm()
    if not form.validate_on_submit():
        return _content_page(user, status=400, form_error="The form expired or the item is unknown; try again.")
    handle_gap(
        db.session,
        actor=user,
        origin=current_origin(),
        kind=form.kind.data or "",
        key=form.key.data or "",
        action="dismissed",
        detail="marked handled",
    )
    flash("Marked handled: it leaves the list until it happens again.", "success")
    return _back()


@bp.get("/desk")
def desk() -> tuple[str, int]:
    """Show the desk's dashboard of a period (default: the last 30 days) in the viewer's scope."""
    user = _viewer("desk")
    try:
        period = _period()
        report = read_desk_report(db.session, user, period, request.args.get("state"), calendar=business_calendar)
    except ReportInputError as exc:
        return render_template("insights/desk.html", report=None, **_filters(user, str(exc))), 400
    except PermissionError:
        abort(403)
    db.session.rollback()
    tables = {t.name: t for t in desk_tables(report, article_titles())}
    sla_items = [
        (f"{tier.replace('_', ' ')}: {m.replace('_', ' ')}", round(100 * c["met"] / c["due"], 1))
        for tier, ms in report.sla.items()
        for m, c in ms.items()
        if c["due"]
    ]
    charts = {
        "per_day": series_chart(
            "Requests opened and resolved per day",
            f"Opened {report.opened} and resolved {report.resolved} from {period.first} to {period.last}.",
            [d.isoformat() for d, _o, _r in report.per_day],
            [("Opened", [o for _d, o, _r in report.per_day]), ("Resolved", [r for _d, _o, r in report.per_day])],
            value_label="Requests",
        ),
        "by_category": bar_chart(
            "Requests per category",
            "Requests opened in the period, per category.",
            [(c, o) for c, o, _d, _r in report.by_category],
            value_label="Requests",
        ),
        "backlog": bar_chart(
            "Open requests by age",
            "Requests open now, by how long they have been open.",
            report.backlog,
            value_label="Requests",
        ),
        "sla": bar_chart(
            "SLA attainment", "Share of due milestones met in time, per tier.", sla_items, value_label="% met"
        ),
        "top_searches": bar_chart(
            "Top searches",
            "The most frequent searches of the period.",
            [(q, n) for q, n, _p in report.top_searches],
            value_label="Searches",
        ),
    }
    return render_template(
        "insights/desk.html", report=report, tables=tables, charts=charts, period=period, **_filters(user, None, period)
    ), 200


@bp.get("/desk.csv")
def desk_csv() -> Response:
    """Download one table of the desk's dashboard (`table`) as CSV, same scope and period as the page."""
    user = _viewer("desk")
    try:
        period = _period()
        report = read_desk_report(db.session, user, period, request.args.get("state"), calendar=business_calendar)
    except (ReportInputError, PermissionError):
        abort(400)
    db.session.rollback()
    return _csv(desk_tables(report, article_titles()), "desk", period)
