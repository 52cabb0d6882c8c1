"""`helpdesk escalate` (the sweeps, once) and `helpdesk triage explain` (where a report would go, and why)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import sessionmaker

from helpdesk.extensions import db
from helpdesk.kb import get_library
from helpdesk.locks import exclusive, once_per_interval
from helpdesk.loops import run_every
from helpdesk.orm import utcnow
from helpdesk.tickets.agencies import agency_info, find_agency
from helpdesk.tickets.errors import TicketError
from helpdesk.tickets.escalation.sweep import BATCH, CLOSE_BATCH, SQLITE_BATCH, close_resolved, escalate_overdue
from helpdesk.tickets.web.blueprint import triage as current_triage
from helpdesk.triage.explain import explain, titles_from
from helpdesk.triage.policy import UnknownCategoryError


@click.command("escalate")
@click.option(
    "--batch",
    type=click.IntRange(1, 25_000),
    default=None,
    help=f"Tickets per transaction [default: {BATCH:,} escalated, {SQLITE_BATCH:,} on SQLite; {CLOSE_BATCH:,} closed].",
)
@click.option("--loop", is_flag=True, help="Keep sweeping every --interval seconds until SIGTERM or SIGINT.")
@click.option(
    "--interval",
    type=click.FloatRange(0.05, 3600),
    default=60.0,
    show_default=True,
    help="Seconds between sweeps with --loop.",
)
@with_appcontext
def escalate_command(batch: int | None, loop: bool, interval: float) -> None:
    """Escalate overdue tier-1 requests and close resolved ones (idempotent; safe on several servers at once)."""
    triage = current_triage()
    sessions = sessionmaker(db.engine, expire_on_commit=False)

    def sweep() -> str | None:
        now = utcnow()
        escalated = escalate_overdue(sessions, triage, now=now, batch=batch)
        closed = close_resolved(sessions, triage, now=now, batch=batch or CLOSE_BATCH)
        if loop and not escalated and not closed:
            return None  # a quiet minute is not worth a log line
        return f"escalated {escalated} overdue requests; closed {closed} resolved requests"

    def one_pass() -> str | None:
        with exclusive(db.engine, "helpdesk.escalate") as mine:  # one host's pass at a time (PostgreSQL)
            if not mine:
                return None if loop else "skipped: another host is sweeping"
            if not loop:  # asked for by hand: sweep now, whoever swept last
                return sweep()
            # The lock covers a pass under way; the claim, a pass another host already ran in this interval.
            return once_per_interval(db.engine, "helpdesk.escalate", interval, sweep)

    if not loop:
        click.echo(one_pass())
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_every(interval, one_pass, on_error=lambda: app.logger.exception("escalation sweep failed; retrying"))


@click.group("triage")
def triage_group() -> None:
    """Look at the triage policy (tickets/*.yml) as it applies to the real agencies."""


@triage_group.command("explain")
@click.option("--category", required=True, help="A category code, e.g. login.")
@click.option("--agency", "agency_name", required=True, help="The agency's name, e.g. 'Travis County Probation'.")
@click.option("--state", help="Two-letter state code, when several agencies share the name.")
@with_appcontext
def explain_command(category: str, agency_name: str, state: str | None) -> None:
    """Print where a report of CATEGORY from AGENCY would go, when it would group or escalate, and why."""
    try:
        agency = find_agency(db.session, agency_name, state)
        titles = titles_from(get_library())
        click.echo(explain(current_triage().policy, category.strip().lower(), agency_info(db.session, agency), titles))
    except (TicketError, UnknownCategoryError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.session.rollback()  # read only


def init_cli(app: Flask) -> None:
    """Register `helpdesk escalate` and `helpdesk triage` on the app's CLI."""
    app.cli.add_command(escalate_command)
    app.cli.add_command(triage_group)
