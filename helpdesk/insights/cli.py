"""`helpdesk report content|desk` (the reports on the console or as CSV) and `helpdesk searchlog sweep`."""

from __future__ import annotations

from collections.abc import Callable

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from helpdesk.extensions import db
from helpdesk.insights.content import content_report
from helpdesk.insights.desk import desk_report
from helpdesk.insights.retention import sweep_search_log
from helpdesk.insights.rollup import roll_up_search_log
from helpdesk.insights.scope import Period, ReportInputError, Scope, parse_period
from helpdesk.insights.tables import content_tables, desk_tables, tables_csv, tables_text
from helpdesk.insights.views import article_titles, business_calendar, today
from helpdesk.locks import once_per_interval
from helpdesk.loops import run_every
from helpdesk.orm import utcnow


@click.group("report")
def report_group() -> None:
    """Print the insight reports (the figures of /insights/content and /insights/desk)."""


def _period_and_scope(first: str | None, last: str | None, state: str | None) -> tuple[Period, Scope]:
    try:
        period = parse_period(first, last, today=today())
    except ReportInputError as exc:
        raise click.BadParameter(str(exc)) from None
    code = (state or "").strip().upper() or None
    if code is not None and (len(code) != 2 or not code.isalpha()):
        raise click.BadParameter("--state must be a two-letter state code")
    return period, Scope(state=code)


_OPTIONS = [
    click.option("--from", "first", metavar="YYYY-MM-DD", help="First day (default: 29 days before --to)."),
    click.option("--to", "last", metavar="YYYY-MM-DD", help="Last day (default: today, UTC)."),
    click.option("--state", help="One state's activity only (default: every state)."),
    click.option("--csv", "as_csv", is_flag=True, help="Print every table as CSV."),
]


def _options(func: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


@report_group.command("content")
@_options
@with_appcontext
def report_content(first: str | None, last: str | None, state: str | None, as_csv: bool) -> None:
    """Content gaps: failed searches, unhelpful articles, opened and unopened answers, deflections."""
    period, scope = _period_and_scope(first, last, state)
    report = content_report(db.session, scope, period, article_titles())
    tables = content_tables(report, article_titles())
    click.echo(tables_csv(tables) if as_csv else tables_text(tables), nl=False)


@report_group.command("desk")
@_options
@with_appcontext
def report_desk(first: str | None, last: str | None, state: str | None, as_csv: bool) -> None:
    """The desk's dashboard: requests, backlog, SLA attainment, escalation, deflection, incidents."""
    period, scope = _period_and_scope(first, last, state)
    report = desk_report(db.session, scope, period, now=utcnow(), calendar=business_calendar)
    tables = desk_tables(report, article_titles())
    click.echo(tables_csv(tables) if as_csv else tables_text(tables), nl=False)


@click.group("searchlog")
def searchlog_group() -> None:
    """The search log's retention."""


@searchlog_group.command("sweep")
@click.option("--loop", is_flag=True, help="Sweep every --interval seconds until SIGTERM or SIGINT.")
@click.option("--interval", type=click.FloatRange(60, 7 * 86_400), default=86_400.0, show_default=True)
@with_appcontext
def sweep_command(loop: bool, interval: float) -> None:
    """Delete searches older than HELPDESK_SEARCH_LOG_DAYS (default 180) days (audited); roll up finished days."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    days = int(app.config.get("SEARCH_LOG_DAYS", 180))

    def one_pass() -> str:
        with Session(db.engine) as session:
            removed = sweep_search_log(session, days=days)
            # The daily job also rolls up the finished days: the reports then read one day's raw rows at most.
            rolled = roll_up_search_log(session)
        return f"search log: {removed} searches older than {days} days removed, {rolled} days rolled up"

    if not loop:
        click.echo(one_pass())
        return
    engine = db.engine  # once per interval across hosts: a pass another host ran in this interval is not repeated
    run_every(
        interval,
        lambda: once_per_interval(engine, "helpdesk.searchlog", interval, one_pass),
        on_error=lambda: app.logger.exception("search-log sweep failed; retrying"),
    )
