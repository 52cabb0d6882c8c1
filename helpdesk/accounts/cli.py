"""`helpdesk users ...` (create, deactivate, inactive) and `helpdesk demo`, for the operator at the server."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import NoReturn

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from helpdesk.accounts.agencies import create_agency
from helpdesk.accounts.auth import find_user
from helpdesk.accounts.demo import DemoSignIn, load_demo
from helpdesk.accounts.models import ROLES, Agency, User
from helpdesk.accounts.services import AccountError, create_user, deactivate_user, list_inactive_users
from helpdesk.accounts.session import account_policy
from helpdesk.accounts.workload import list_open_work
from helpdesk.admin.services import home_agency
from helpdesk.audit.services import SYSTEM
from helpdesk.extensions import db
from helpdesk.orm import utcnow
from helpdesk.vocabulary import Role


def _fail(message: str) -> NoReturn:
    """Print the refusal and exit with status 1; nothing of the command's work is committed."""
    db.session.rollback()
    raise click.ClickException(message)


def _find(email: str) -> User:
    user = find_user(db.session, email)
    if user is None:
        _fail(f"No user has the e-mail address {email.strip().lower()}.")
    return user


@click.group("users")
def users_group() -> None:
    """Create and deactivate users, and list the ones not seen for a while."""


@users_group.command("create")
@click.option("--email", required=True, help="The person's own work e-mail (their sign-in id).")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]), help="The user's role.")
@click.option("--state", help="Two-letter state code (not for national_admin).")
@click.option(
    "--agency",
    help="Agency name within the state (default: the compact office for compact_office, "
    "or the state's only local agency).",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin and mail no first-time link.")
@with_appcontext
def create_command(
    email: str, name: str, role: str, state: str | None, agency: str | None, password_stdin: bool
) -> None:
    """Create a user; without --password-stdin the first-time link to choose a password is mailed."""
    if state is None and role != Role.NATIONAL_ADMIN:
        _fail("Give the user's state with --state (a two-letter code such as TX).")
    policy, now = account_policy(), utcnow()
    try:
        home = home_agency(db.session, state, agency, role)
        password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
        user = create_user(
            db.session,
            actor=None,
            email=email,
            name=name,
            role=role,
            agency=home,
            origin=SYSTEM,
            now=now,
            policy=policy,
            password=password,
        )
    except AccountError as exc:
        _fail(str(exc))
    db.session.commit()
    how = "with the password given" if password_stdin else "a first-time link to choose a password is in the outbox"
    click.echo(f"created {user.email} ({ROLES[user.role]}, {home.name}): {how}")


@users_group.command("deactivate")
@click.option("--email", required=True, help="The user to deactivate.")
@click.option(
    "--reassign-to", "reassign_to", help="E-mail of an active user of the same state who takes the open work over."
)
@with_appcontext
def deactivate_command(email: str, reassign_to: str | None) -> None:
    """Deactivate a user (never delete); open work must be given to another user in the same step."""
    user = _find(email)
    if not user.is_active:
        click.echo(f"{user.email} is already deactivated")
        return
    target = _find(reassign_to) if reassign_to else None
    work = list_open_work(db.session, user)
    try:
        moved = deactivate_user(db.session, user, actor=None, origin=SYSTEM, now=utcnow(), reassign_to=target)
    except AccountError as exc:
        items = "".join(f"\n  {item.kind} {item.id}: {item.title}" for item in work)
        hint = "\nGive them to a colleague of the same state with --reassign-to EMAIL." if work and not target else ""
        _fail(f"{exc}{items}{hint}")
    db.session.commit()
    handed = f"; {moved} open items went to {target.email}" if target is not None and moved else ""
    click.echo(f"deactivated {user.email}{handed}")


@users_group.command("inactive")
@click.option("--days", type=click.IntRange(1, 3650), default=None, help="Days without sign-in (default: policy, 90).")
@click.option("--state", help="Only this state (two-letter code).")
@click.option("--json", "as_json", is_flag=True, help='Print JSON: {"days", "users": [...]}.')
@with_appcontext
def inactive_command(days: int | None, state: str | None, as_json: bool) -> None:
    """List active users not seen for --days days (never-seen users count from their creation)."""
    days = days or account_policy().inactive_days
    users = list_inactive_users(db.session, days=days, now=utcnow(), state_code=state.upper() if state else None)
    rows = [
        {
            "email": u.email,
            "name": u.name,
            "role": u.role,
            "state": u.state_code,
            "agency": u.agency.name,
            "last_seen_at": u.last_seen_at.isoformat() if u.last_seen_at else None,
            "created_at": u.created_at.isoformat(),
        }
        for u in users
    ]
    if as_json:
        click.echo(json.dumps({"days": days, "users": rows}, indent=2))
        return
    click.echo(f"{len(rows)} active users not seen for {days} days")
    if rows:
        click.echo(
            _table(
                ("E-mail", "Name", "Role", "State", "Last seen"),
                [(r["email"], r["name"], r["role"], r["state"] or "--", r["last_seen_at"] or "never") for r in rows],
            )
        )


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (headers, *rows)
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def load_and_print_demo(*, as_json: bool = False) -> list[DemoSignIn]:
    """Load the demo organisation (refused in production), commit, and print its sign-ins."""
    if current_app.config.get("HELPDESK_ENV") == "production":
        raise click.ClickException(
            "The demo organisation has published passwords: it cannot be loaded with HELPDESK_ENV=production."
        )
    from helpdesk.accounts.demo import DEMO_EDITOR
    from helpdesk.kb import get_library
    from helpdesk.kb.demo import load_demo_articles
    from helpdesk.tickets.demo import load_demo_tickets
    from helpdesk.tickets.web.blueprint import triage

    get_library()  # an empty database is seeded from the articles folder before the demo articles join it
    sign_ins = load_demo(db.session, now=utcnow(), policy=account_policy())
    load_demo_tickets(db.session, triage(), now=utcnow())
    editor = next(s for s in sign_ins if s.email.startswith(DEMO_EDITOR.lower().replace(" ", ".") + "@"))
    editor_user = find_user(db.session, editor.email)
    assert editor_user is not None  # load_demo has just created it
    load_demo_articles(db.session, editor=editor_user, now=utcnow())
    db.session.commit()
    if as_json:
        click.echo(json.dumps({"users": [s.to_dict() for s in sign_ins]}, indent=2))
        return sign_ins
    base = current_app.config["BASE_URL"]
    click.echo(f"Demo organisation loaded. Sign in at {base}/login as any of these users:\n")
    rows = [
        (
            s.email,
            s.password,
            s.role,
            s.state or "--",
            s.agency,
            s.totp_secret or "",
            "" if s.privacy_accepted else "privacy policy not accepted yet",
        )
        for s in sign_ins
    ]
    click.echo(_table(("E-mail", "Password", "Role", "State", "Agency", "Authenticator secret (TOTP)", "Note"), rows))
    click.echo(
        "\nUsers with a secret need a 6-digit code: add the secret to an authenticator app, or run\n"
        "  python -c \"import pyotp; print(pyotp.TOTP('SECRET').now())\""
    )
    for pending in (s for s in sign_ins if not s.privacy_accepted):
        click.echo(f"{pending.email} has not accepted the privacy policy yet: it is asked at their first sign-in.")
    return sign_ins


@click.command("demo")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print {"users": [{"email", "password", "role", "state", "agency", "totp_secret"}]}.',
)
@with_appcontext
def demo_command(as_json: bool) -> None:
    """Load a demo organisation (TX and OH, every role), idempotently, and print how to sign in."""
    load_and_print_demo(as_json=as_json)


@click.group("agencies")
def agencies_group() -> None:
    """List and create the agencies (offices) of a state."""


@agencies_group.command("create")
@click.option("--state", required=True, help="Two-letter state code.")
@click.option("--name", required=True, help="The agency's name, e.g. 'Travis County Probation'.")
@click.option("--it-mailbox", help="A mailbox of the agency's IT team, notified of its tier-1 requests.")
@click.option("--time-zone", help="IANA time zone for business hours (default: the state's compact office's).")
@with_appcontext
def create_agency_command(state: str, name: str, it_mailbox: str | None, time_zone: str | None) -> None:
    """Create a local agency."""
    try:
        agency = create_agency(
            db.session,
            actor=None,
            state_code=state,
            name=name,
            origin=SYSTEM,
            policy=account_policy(),
            it_mailbox=it_mailbox,
            time_zone=time_zone,
        )
    except AccountError as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(f"created agency {agency.id}: {agency.name} ({agency.state_code}, {agency.time_zone})")


@agencies_group.command("list")
@click.option("--state", help="Only this state's agencies.")
@with_appcontext
def list_agencies_command(state: str | None) -> None:
    """List agencies with their kind and IT mailbox."""
    query = select(Agency).order_by(Agency.state_code, Agency.kind, Agency.name)
    if state:
        query = query.where(Agency.state_code == state.strip().upper())
    for agency in db.session.scalars(query):
        click.echo(
            f"{agency.id:>5}  {agency.state_code or '--'}  {agency.kind:<14}  {agency.name}"
            f"{'  (IT: ' + agency.it_mailbox + ')' if agency.it_mailbox else ''}"
        )


def init_cli(app: Flask) -> None:
    """Register `helpdesk users`, `helpdesk agencies` and `helpdesk demo` on the app's CLI."""
    app.cli.add_command(users_group)
    app.cli.add_command(agencies_group)
    app.cli.add_command(demo_command)
